const { fakeServer, fakeWx, openPage, settle, text, tap, json, apiError } = require('./helpers')
const fixtures = require('./fixtures')

const LINK = 'https://donate.example.org/d/DX-XF/one-yuan'

let server
beforeEach(() => {
  server = fakeServer().on('GET /api/entry', () => json(200, fixtures.entry()))
  global.wx = fakeWx(server)
})

test('a scanned ordinary-URL QR code (options.q) asks /api/entry with the link', async () => {
  const page = await openPage('donate', { q: encodeURIComponent(LINK), scancode_time: '1796187741' })
  expect(server.calls('GET /api/entry')[0].query).toEqual({ q: LINK })
  expect(text(page, '#campaign-name')).toBe('一元捐')
  expect(text(page, '#price')).toBe('1')
  expect(text(page, '#unit-path')).toBe('大兴区总工会 › 兴丰街道总工会')
  expect(text(page, '#unit-progress')).toContain('12')
  expect(text(page, '#campaign-total')).toBe('567')
  expect(text(page, '#campaign-progress')).toContain('300')
  expect(page.querySelector('#submit')).toBeTruthy()
})

test('a mini-program code (options.scene) asks /api/entry with the decoded scene', async () => {
  const page = await openPage('donate', { scene: encodeURIComponent('DX-XF/one-yuan') })
  expect(server.calls('GET /api/entry')[0].query).toEqual({ scene: 'DX-XF/one-yuan' })
  expect(text(page, '#campaign-name')).toBe('一元捐')
})

test('a shared card (?unit=&campaign=) opens the same unit and campaign', async () => {
  const page = await openPage('donate', { unit: 'DX-XF', campaign: 'one-yuan' })
  expect(server.calls('GET /api/entry')[0].query).toEqual({ scene: 'DX-XF/one-yuan' })
  expect(page.querySelector('#submit')).toBeTruthy()
  // and passes itself on the same way
  expect(page.instance.onShareAppMessage()).toEqual({
    title: '兴丰街道总工会 · 一元捐', path: '/pages/donate/donate?unit=DX-XF&campaign=one-yuan' })
  expect(page.instance.onShareTimeline().query).toBe('unit=DX-XF&campaign=one-yuan')
})

test('a code of another site shows the server\'s message and offers no retry or order', async () => {
  server.on('GET /api/entry', () => apiError(400, 'invalid_request', '这不是本平台的捐款链接'))
  const page = await openPage('donate', { q: encodeURIComponent('https://evil.example/d/X/Y') })
  expect(text(page, '#error-message')).toBe('这不是本平台的捐款链接')
  expect(page.querySelector('#retry')).toBeFalsy()
  expect(page.querySelector('#submit')).toBeFalsy()
})

test('an unknown unit or campaign shows the server\'s message', async () => {
  server.on('GET /api/entry', () => apiError(404, 'not_found', '没有这个单位'))
  const page = await openPage('donate', { scene: 'NOPE/one-yuan' })
  expect(text(page, '#error-message')).toBe('没有这个单位')
  expect(page.querySelector('#submit')).toBeFalsy()
})

test('opened with nothing to go on, the page asks for a scan without calling the server', async () => {
  const page = await openPage('donate', {})
  expect(server.requests).toHaveLength(0)
  expect(text(page, '#error-message')).toContain('请重新扫描')
})

test('a closed campaign is shown with why, and ordering is not offered', async () => {
  server.on('GET /api/entry', () => json(200, fixtures.entry({ campaign: fixtures.campaign({ status: 'closed' }) })))
  const page = await openPage('donate', { scene: 'DX-XF/one-yuan' })
  expect(text(page, '#campaign-total')).toBe('567')
  expect(text(page, '#blocked-reason')).toBe('「一元捐」目前不在捐款期内，暂不能捐款')
  expect(page.querySelector('#form')).toBeFalsy()
  expect(page.querySelector('#submit')).toBeFalsy()
  page.instance.onSubmit()
  expect(server.calls('POST /api/donations')).toHaveLength(0)
})

test('an inactive unit is shown with why, and ordering is not offered', async () => {
  server.on('GET /api/entry', () => json(200, fixtures.entry({ unit: fixtures.unit({ active: false }) })))
  const page = await openPage('donate', { scene: 'DX-XF/one-yuan' })
  expect(text(page, '#blocked-reason')).toBe('「兴丰街道总工会」已停止收款，暂不能捐款')
  expect(page.querySelector('#submit')).toBeFalsy()
})

test('a network failure offers a retry, which loads the page', async () => {
  server.on('GET /api/entry', () => 'offline')
  const page = await openPage('donate', { scene: 'DX-XF/one-yuan' })
  expect(text(page, '#error-message')).toBe('网络不给力，请检查网络后重试')
  server.on('GET /api/entry', () => json(200, fixtures.entry()))
  tap(page, '#retry')
  await settle()
  expect(text(page, '#campaign-name')).toBe('一元捐')
})
