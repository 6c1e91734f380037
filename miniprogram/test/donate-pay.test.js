const { fakeServer, fakeWx, openPage, settle, text, tap, json, apiError } = require('./helpers')
const fixtures = require('./fixtures')
const api = require('../utils/api')

const HOUR = 3600 * 1000
let server, wx, order, status

function loginHandler() {
  let issued = 0
  return req => {
    issued += 1
    return json(200, { token: 'token-' + issued + '-for-' + req.data.code, expires_in: 7200 })
  }
}

beforeEach(() => {
  order = fixtures.donation()
  status = 'paid'
  server = fakeServer()
    .on('GET /api/entry', () => json(200, fixtures.entry()))
    .on('POST /api/login', loginHandler())
    .on('POST /api/donations', () => json(201, order))
    .on('GET /api/donations/*', () => json(200, Object.assign({}, order, { status })))
  wx = global.wx = fakeWx(server)
})

afterEach(() => jest.useRealTimers())

async function openForm() {
  return openPage('donate', { scene: 'DX-XF/one-yuan' })
}

test('paying: log in, order, pay with the returned parameters, confirm, show the result', async () => {
  const page = await openForm()
  tap(page, '#plus'); tap(page, '#plus')
  await settle()
  page.instance.onAnonymous({ detail: { value: true } })
  page.instance.onMessage({ detail: { value: ' 加油 ' } })
  await page.instance.onSubmit()

  expect(server.calls('POST /api/login')[0].data).toEqual({ code: 'code-1' })
  const [ordered] = server.calls('POST /api/donations')
  expect(ordered.data).toEqual({ campaign: 'one-yuan', unit: 'DX-XF', quantity: 3, anonymous: true, message: '加油' })
  expect(ordered.header.Authorization).toBe('Bearer token-1-for-code-1')
  expect(ordered.header['Content-Type']).toBe('application/json')
  expect(wx.payments).toHaveLength(1)
  expect(wx.payments[0]).toMatchObject(order.payment)
  expect(server.calls('GET /api/donations/' + order.out_trade_no)).toHaveLength(1)
  expect(wx.navigations).toEqual([{ how: 'redirectTo', url: '/pages/result/result?no=' + order.out_trade_no }])
  expect(wx.storage.get(api.TOKEN_KEY).token).toBe('token-1-for-code-1')
})

test('a kept token that has not expired is used without logging in again', async () => {
  wx.storage.set(api.TOKEN_KEY, { token: 'kept', expiresAt: Date.now() + HOUR })
  const page = await openForm()
  await page.instance.onSubmit()
  expect(server.calls('POST /api/login')).toHaveLength(0)
  expect(server.calls('POST /api/donations')[0].header.Authorization).toBe('Bearer kept')
})

test('a kept token past its expiry is renewed before the order, not sent', async () => {
  wx.storage.set(api.TOKEN_KEY, { token: 'stale', expiresAt: Date.now() - 1000 })
  const page = await openForm()
  await page.instance.onSubmit()
  expect(server.calls('POST /api/login')).toHaveLength(1)
  expect(server.requests.some(r => r.header.Authorization === 'Bearer stale')).toBe(false)
})

test('a 401 renews the token once and orders again with the new one', async () => {
  wx.storage.set(api.TOKEN_KEY, { token: 'revoked', expiresAt: Date.now() + HOUR })
  server.on('POST /api/donations', req => (req.header.Authorization === 'Bearer revoked'
    ? apiError(401, 'unauthorized', '登录已过期，请重新进入')
    : json(201, order)))
  const page = await openForm()
  await page.instance.onSubmit()
  const orders = server.calls('POST /api/donations')
  expect(orders.map(o => o.header.Authorization)).toEqual(['Bearer revoked', 'Bearer token-1-for-code-1'])
  expect(server.calls('POST /api/login')).toHaveLength(1)
  expect(wx.payments).toHaveLength(1)
  expect(wx.navigations).toHaveLength(1)
})

test('a cancelled payment returns to the form with a calm message', async () => {
  wx.payment = 'cancel'
  const page = await openForm()
  await page.instance.onSubmit()
  await settle()
  expect(page.data.phase).toBe('form')
  expect(text(page, '#notice')).toBe('已取消支付，捐款未完成。需要时可以再次提交。')
  expect(page.querySelector('.notice_info')).toBeTruthy()
  expect(server.calls('GET /api/donations/' + order.out_trade_no)).toHaveLength(0)
  expect(wx.navigations).toHaveLength(0)
  expect(text(page, '#submit')).toBe('捐 1 元')
})

test('a refused order shows the server\'s Chinese message and pays nothing', async () => {
  server.on('POST /api/donations', () => apiError(502, 'wechat_unavailable', '微信支付暂时无法下单，请稍后再试'))
  const page = await openForm()
  await page.instance.onSubmit()
  await settle()
  expect(text(page, '#notice')).toBe('微信支付暂时无法下单，请稍后再试')
  expect(wx.payments).toHaveLength(0)
  expect(page.querySelector('#submit')).toBeTruthy()

  server.on('POST /api/donations', () => apiError(409, 'campaign_closed', '该项目已结束'))
  await page.instance.onSubmit()
  await settle()
  expect(text(page, '#blocked-reason')).toBe('该项目已结束')
  expect(page.querySelector('#submit')).toBeFalsy()
})

test('an order that times out says so', async () => {
  server.on('POST /api/donations', () => 'timeout')
  const page = await openForm()
  await page.instance.onSubmit()
  await settle()
  expect(text(page, '#notice')).toBe('服务器响应超时，请稍后重试')
  expect(wx.payments).toHaveLength(0)
})

test('a double tap orders once and pays once', async () => {
  const page = await openForm()
  tap(page, '#submit')
  tap(page, '#submit')
  page.instance.onSubmit()
  await settle(30)
  expect(server.calls('POST /api/donations')).toHaveLength(1)
  expect(server.calls('POST /api/login')).toHaveLength(1)
  expect(wx.payments).toHaveLength(1)
  expect(wx.navigations).toHaveLength(1)
})

test('confirming polls with growing pauses, gives up after about 15 s, and can look again', async () => {
  jest.useFakeTimers()
  status = 'pending'
  const page = await openForm()
  const polls = () => server.calls('GET /api/donations/' + order.out_trade_no).length
  const done = page.instance.onSubmit()
  await jest.advanceTimersByTimeAsync(0)
  expect(polls()).toBe(1)
  expect(text(page, '#submit')).toBe('正在确认支付…')
  await jest.advanceTimersByTimeAsync(1000)
  expect(polls()).toBe(2)
  await jest.advanceTimersByTimeAsync(1000)
  expect(polls()).toBe(3)
  await jest.advanceTimersByTimeAsync(1400)
  expect(polls()).toBe(3) // the third pause is longer
  await jest.advanceTimersByTimeAsync(100)
  expect(polls()).toBe(4)
  await jest.advanceTimersByTimeAsync(9000)
  expect(polls()).toBe(7)
  await jest.advanceTimersByTimeAsync(2500)
  await done
  expect(polls()).toBe(8)
  expect(text(page, '#notice')).toBe('支付结果确认中，请稍候刷新查看')
  expect(page.querySelector('#confirm-again')).toBeTruthy()
  expect(wx.navigations).toHaveLength(0)
  await jest.advanceTimersByTimeAsync(60000)
  expect(polls()).toBe(8) // given up: no more polling on its own

  status = 'paid'
  tap(page, '#confirm-again')
  await jest.advanceTimersByTimeAsync(0)
  expect(polls()).toBe(9)
  expect(server.calls('POST /api/donations')).toHaveLength(1)
  expect(wx.navigations[0].url).toBe('/pages/result/result?no=' + order.out_trade_no)
})

test('an order that closed unpaid while confirming returns to the form', async () => {
  status = 'closed'
  const page = await openForm()
  await page.instance.onSubmit()
  await settle()
  expect(text(page, '#notice')).toBe('这笔订单已超时关闭，未扣款。可以重新提交。')
  expect(page.querySelector('#submit')).toBeTruthy()
})
