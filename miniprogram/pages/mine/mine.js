// The worker's own donations, newest first, a page more on reaching the bottom.
const api = require('../../utils/api')
const { yuan, statusText, shortTime } = require('../../utils/format')

Component({
  data: {
    state: 'loading', // loading | error | ready
    errorMessage: '',
    items: [],
    more: false,
    loadingMore: false,
    moreError: ''
  },

  methods: {
    onLoad() {
      this.names = { campaigns: {}, units: {} }
      this.reload()
    },

    onPullDownRefresh() {
      this.reload().then(() => wx.stopPullDownRefresh())
    },

    async reload() {
      this.cursor = null
      this.setData({ state: 'loading', items: [], more: false, moreError: '' })
      try {
        const page = await api.myDonations(null)
        const items = await this.present(page.donations)
        this.cursor = page.next
        this.setData({ state: 'ready', items, more: !!page.next })
      } catch (err) {
        this.setData({ state: 'error', errorMessage: err.message })
      }
    },

    async onReachBottom() {
      if (this.data.loadingMore || !this.cursor || this.data.state !== 'ready') return
      this.setData({ loadingMore: true, moreError: '' })
      try {
        const page = await api.myDonations(this.cursor)
        const items = await this.present(page.donations)
        this.cursor = page.next
        this.setData({ items: this.data.items.concat(items), more: !!page.next, loadingMore: false })
      } catch (err) {
        this.setData({ loadingMore: false, moreError: err.message })
      }
    },

    onRetry() {
      this.reload()
    },

    // Donations name codes: look the names up once (campaigns in one call, each unit once).
    async present(donations) {
      await this.learnNames(donations)
      const { campaigns, units } = this.names
      return donations.map(d => ({
        no: d.out_trade_no,
        campaign: campaigns[d.campaign] || d.campaign,
        unit: units[d.unit] || d.unit,
        quantity: d.quantity,
        amountYuan: yuan(d.amount_fen),
        status: d.status,
        statusText: statusText(d.status),
        time: shortTime(d.paid_at || d.created_at)
      }))
    },

    async learnNames(donations) {
      const { campaigns, units } = this.names
      try {
        if (donations.some(d => !campaigns[d.campaign])) {
          const list = await api.campaigns()
          list.campaigns.forEach(c => { campaigns[c.code] = c.name })
        }
        const unknown = Array.from(new Set(donations.map(d => d.unit).filter(u => !units[u])))
        const found = await Promise.all(unknown.map(code => api.unit(code).catch(() => null)))
        found.forEach(u => { if (u) units[u.code] = u.name })
      } catch (err) {
        // Names are a nicety: the codes are shown instead.
      }
    },

    onOpen(e) {
      const { no, status } = e.currentTarget.dataset
      if (status === 'paid') wx.navigateTo({ url: '/pages/result/result?no=' + encodeURIComponent(no) })
    }
  }
})
