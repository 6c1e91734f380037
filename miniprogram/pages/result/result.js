// After a paid donation: thanks, what was given and where, the campaign's new progress, sharing.
const api = require('../../utils/api')
const { donatePath } = require('../../utils/entry')
const { yuan, statusText, subtreeTotals, progress } = require('../../utils/format')

Component({
  data: {
    state: 'loading', // loading | error | ready
    errorMessage: '',
    donation: null,
    amountYuan: '',
    statusText: '',
    unit: null,
    campaign: null,
    unitProgress: null,
    campaignProgress: null
  },

  methods: {
    onLoad(options) {
      this.no = (options && options.no) || ''
      if (wx.showShareMenu) wx.showShareMenu({ menus: ['shareAppMessage', 'shareTimeline'] })
      this.load()
    },

    async load() {
      if (!this.no) {
        this.setData({ state: 'error', errorMessage: '没有找到这笔捐款' })
        return
      }
      this.setData({ state: 'loading' })
      try {
        const donation = await api.donation(this.no)
        const found = await api.entry({ scene: donation.unit + '/' + donation.campaign })
        this.setData({
          state: 'ready',
          donation,
          amountYuan: yuan(donation.amount_fen),
          statusText: statusText(donation.status),
          unit: found.unit,
          campaign: found.campaign,
          unitProgress: progress(subtreeTotals(found.unit, found.campaign.code), 0),
          campaignProgress: progress(found.campaign, found.campaign.goal_fen)
        })
      } catch (err) {
        this.setData({ state: 'error', errorMessage: err.message })
      }
    },

    onRetry() {
      this.load()
    },

    onAgain() {
      const { unit, campaign } = this.data
      wx.redirectTo({ url: donatePath(unit.code, campaign.code) })
    },

    onMine() {
      wx.navigateTo({ url: '/pages/mine/mine' })
    },

    shareTitle() {
      const { unit, campaign } = this.data
      if (!unit || !campaign) return '职工爱心捐'
      return '我参加了' + unit.name + '的「' + campaign.name + '」，一起来献爱心'
    },

    onShareAppMessage() {
      const { unit, campaign } = this.data
      const share = { title: this.shareTitle() }
      if (unit && campaign) share.path = donatePath(unit.code, campaign.code)
      return share
    },

    onShareTimeline() {
      const { unit, campaign } = this.data
      const share = { title: this.shareTitle() }
      if (unit && campaign) {
        share.query = 'unit=' + encodeURIComponent(unit.code) +
          '&campaign=' + encodeURIComponent(campaign.code)
      }
      return share
    }
  }
})
