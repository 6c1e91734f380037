// The page a scan opens: what the campaign is, how the unit and the campaign are doing, and the
// form that orders and pays. Written with Component so that it can be tested outside WeChat.
const api = require('../../utils/api')
const config = require('../../config')
const { entryQuery, donatePath } = require('../../utils/entry')
const { yuan, subtreeTotals, progress } = require('../../utils/format')
const { requestPayment, sleep } = require('../../utils/wxp')

const MESSAGE_MAX = 50
// Pauses between looks at a paid order: about 15 seconds in all before saying "确认中".
const POLL_DELAYS_MS = [1000, 1000, 1500, 2000, 2500, 3000, 4000]

const NO_ENTRY = '没有识别到捐款单位，请重新扫描单位的捐款二维码'
const CANCELLED = '已取消支付，捐款未完成。需要时可以再次提交。'
const CONFIRMING = '支付结果确认中，请稍候刷新查看'
const ORDER_CLOSED = '这笔订单已超时关闭，未扣款。可以重新提交。'

function blockedReason(unit, campaign) {
  if (campaign.status !== 'open') return '「' + campaign.name + '」目前不在捐款期内，暂不能捐款'
  if (!unit.active) return '「' + unit.name + '」已停止收款，暂不能捐款'
  return ''
}

function pickerRange(max, amountFen) {
  const range = []
  for (let n = 1; n <= max; n += 1) range.push(n + ' 份（' + yuan(n * amountFen) + ' 元）')
  return range
}

function countChars(text) {
  return Array.from(text || '').length
}

Component({
  data: {
    state: 'loading', // loading | error | ready
    errorMessage: '',
    canRetry: false,
    unit: null,
    campaign: null,
    pathText: '',
    priceYuan: '',
    unitProgress: null,
    campaignProgress: null,
    blocked: '',
    maxQuantity: 1,
    quantity: 1,
    amountYuan: '',
    range: [],
    anonymous: false,
    message: '',
    messageLength: 0,
    messageMax: MESSAGE_MAX,
    phase: 'form', // form | ordering | paying | confirming | unconfirmed
    notice: '',
    noticeKind: 'info' // info | warn
  },

  methods: {
    onLoad(options) {
      this.query = entryQuery(options)
      this._ordering = false
      this.pending = null
      this.load()
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },

    async load() {
      if (!this.query) {
        this.setData({ state: 'error', errorMessage: NO_ENTRY, canRetry: false })
        return
      }
      if (this.data.state !== 'ready') this.setData({ state: 'loading' })
      try {
        const found = await api.entry(this.query)
        this.show(found)
      } catch (err) {
        // A bad or unknown code cannot get better by retrying; the network can.
        const canRetry = !(err.status >= 400 && err.status < 500)
        this.setData({ state: 'error', errorMessage: err.message, canRetry })
      }
    },

    show(found) {
      const { unit, campaign } = found
      const max = Math.max(1, Number(found.max_quantity) || config.maxQuantityFallback)
      const quantity = Math.min(this.data.quantity, max)
      this.setData({
        state: 'ready',
        unit,
        campaign,
        priceYuan: yuan(campaign.amount_fen),
        pathText: (unit.path || []).map(p => p.name).join(' › '),
        unitProgress: progress(subtreeTotals(unit, campaign.code), 0),
        campaignProgress: progress(campaign, campaign.goal_fen),
        blocked: blockedReason(unit, campaign),
        maxQuantity: max,
        range: pickerRange(max, campaign.amount_fen),
        quantity,
        amountYuan: yuan(quantity * campaign.amount_fen)
      })
    },

    setQuantity(n) {
      const quantity = Math.max(1, Math.min(this.data.maxQuantity, Math.floor(Number(n)) || 1))
      this.setData({ quantity, amountYuan: yuan(quantity * this.data.campaign.amount_fen) })
    },

    onPick(e) {
      this.setQuantity(Number(e.detail.value) + 1)
    },

    onMinus() {
      this.setQuantity(this.data.quantity - 1)
    },

    onPlus() {
      this.setQuantity(this.data.quantity + 1)
    },

    onAnonymous(e) {
      this.setData({ anonymous: !!e.detail.value })
    },

    onMessage(e) {
      const message = Array.from(e.detail.value || '').slice(0, MESSAGE_MAX).join('')
      this.setData({ message, messageLength: countChars(message) })
      return message
    },

    onRetry() {
      this.load()
    },

    // Order, pay, confirm. A second tap while one is under way does nothing.
    async onSubmit() {
      if (this._ordering || this.data.blocked || this.data.state !== 'ready') return
      this._ordering = true
      this.setData({ phase: 'ordering', notice: '' })
      try {
        const donation = await api.createDonation({
          campaign: this.data.campaign.code,
          unit: this.data.unit.code,
          quantity: this.data.quantity,
          anonymous: this.data.anonymous,
          message: this.data.message.trim()
        })
        this.pending = donation.out_trade_no
        this.setData({ phase: 'paying' })
        try {
          await requestPayment(donation.payment)
        } catch (err) {
          this.paymentFailed(err)
          return
        }
        await this.confirm()
      } catch (err) {
        this.refused(err)
      } finally {
        this._ordering = false
      }
    },

    paymentFailed(err) {
      const text = (err && err.errMsg) || ''
      const cancelled = /cancel/i.test(text)
      this.setData({
        phase: 'form',
        notice: cancelled ? CANCELLED : '支付没有完成，请稍后再试（' + text + '）',
        noticeKind: cancelled ? 'info' : 'warn'
      })
    },

    refused(err) {
      const closed = err.code === 'campaign_closed' || err.code === 'unit_inactive'
      const update = { phase: 'form', notice: err.message, noticeKind: 'warn' }
      if (closed) update.blocked = err.message
      this.setData(update)
    },

    // Poll the order until WeChat Pay's word is in; give up calmly after about 15 s.
    async confirm() {
      this.setData({ phase: 'confirming', notice: '' })
      for (let i = 0; i <= POLL_DELAYS_MS.length; i += 1) {
        if (i > 0) await sleep(POLL_DELAYS_MS[i - 1])
        let donation
        try {
          donation = await api.donation(this.pending)
        } catch (err) {
          if (err.status === 404 || err.status === 400) return this.refused(err)
          continue // the network or the server hiccuped: look again after the next pause
        }
        if (donation.status === 'paid' || donation.status === 'refunding' ||
            donation.status === 'refunded' || donation.status === 'disputed') {
          return this.paid(donation)
        }
        if (donation.status === 'closed') {
          this.pending = null
          return this.setData({ phase: 'form', notice: ORDER_CLOSED, noticeKind: 'warn' })
        }
      }
      this.setData({ phase: 'unconfirmed', notice: CONFIRMING, noticeKind: 'info' })
    },

    async onConfirmAgain() {
      if (this._ordering || !this.pending) return
      this._ordering = true
      try {
        await this.confirm()
      } finally {
        this._ordering = false
      }
    },

    paid(donation) {
      this.pending = null
      this.setData({ phase: 'form' })
      wx.redirectTo({ url: '/pages/result/result?no=' + encodeURIComponent(donation.out_trade_no) })
    },

    onMine() {
      wx.navigateTo({ url: '/pages/mine/mine' })
    },

    onShareAppMessage() {
      const { unit, campaign } = this.data
      if (!unit || !campaign) return { title: '职工爱心捐', path: '/pages/mine/mine' }
      return { title: unit.name + ' · ' + campaign.name, path: donatePath(unit.code, campaign.code) }
    },

    onShareTimeline() {
      const { unit, campaign } = this.data
      if (!unit || !campaign) return { title: '职工爱心捐' }
      return {
        title: unit.name + ' · ' + campaign.name,
        query: donatePath(unit.code, campaign.code).split('?')[1]
      }
    }
  }
})
