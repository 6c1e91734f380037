const { fakeServer, fakeWx, openPage, text, tap, settle, json, apiError } = require('./helpers')
const fixtures = require('./fixtures')

let server, wx
const paid = fixtures.donation({ status: 'paid', paid_at: '2026-12-02T13:02:40+08:00' })

beforeEach(() => {
  server = fakeServer()
    .on('POST /api/login', () => json(200, { token: 't', expires_in: 7200 }))
    .on('GET /api/donations/*', () => json(200, paid))
    .on('GET /api/entry', () => json(200, fixtures.entry()))
  wx = global.wx = fakeWx(server)
})

test('the result thanks the worker with the amount, unit, campaign and new progress', async () => {
  const page = await openPage('result', { no: paid.out_trade_no })
  expect(server.calls('GET /api/donations/' + paid.out_trade_no)).toHaveLength(1)
  expect(server.calls('GET /api/entry')[0].query).toEqual({ scene: 'DX-XF/one-yuan' })
  expect(text(page, '#amount')).toBe('3')
  expect(text(page, '#summary')).toBe('3 份 · 一元捐 · 兴丰街道总工会')
  expect(text(page, '#status')).toBe('已支付')
  expect(text(page, '#campaign-total')).toBe('567')
  expect(text(page, '#campaign-donors')).toBe('300')
  expect(text(page, '#unit-total')).toBe('12')
  expect(wx.shareMenu.menus).toEqual(['shareAppMessage', 'shareTimeline'])
})

test('sharing to a chat or Moments opens the same unit and campaign', async () => {
  const page = await openPage('result', { no: paid.out_trade_no })
  const card = page.instance.onShareAppMessage()
  expect(card.title).toBe('我参加了兴丰街道总工会的「一元捐」，一起来献爱心')
  expect(card.path).toBe('/pages/donate/donate?unit=DX-XF&campaign=one-yuan')
  const moments = page.instance.onShareTimeline()
  expect(moments.title).toBe(card.title)
  expect(moments.query).toBe('unit=DX-XF&campaign=one-yuan')
  tap(page, '#again')
  await settle()
  expect(wx.navigations).toEqual([{ how: 'redirectTo', url: card.path }])
})

test('a donation that is not the worker\'s shows the server\'s message', async () => {
  server.on('GET /api/donations/*', () => apiError(404, 'not_found', '没有这笔捐款'))
  const page = await openPage('result', { no: 'WF-OTHER' })
  expect(text(page, '#error-message')).toBe('没有这笔捐款')
})
