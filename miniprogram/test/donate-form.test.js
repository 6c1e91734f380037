const { fakeServer, fakeWx, openPage, settle, text, tap, json } = require('./helpers')
const fixtures = require('./fixtures')

let server
beforeEach(() => {
  server = fakeServer()
  global.wx = fakeWx(server)
})

async function open(entry) {
  server.on('GET /api/entry', () => json(200, entry))
  return openPage('donate', { scene: 'DX-XF/ten-yuan' })
}

test('the share picker runs 1..max_quantity and states each amount in yuan', async () => {
  const tenYuan = fixtures.campaign({ code: 'ten-yuan', name: '十元捐', amount_fen: 1000 })
  const page = await open(fixtures.entry({ campaign: tenYuan, max_quantity: 3 }))
  expect(page.data.range).toEqual(['1 份（10 元）', '2 份（20 元）', '3 份（30 元）'])
  expect(text(page, '#quantity')).toBe('1 份')
  expect(text(page, '#amount')).toBe('10')

  tap(page, '#minus')
  await settle()
  expect(page.data.quantity).toBe(1)
  tap(page, '#plus'); tap(page, '#plus'); tap(page, '#plus'); tap(page, '#plus')
  await settle()
  expect(text(page, '#quantity')).toBe('3 份')
  expect(text(page, '#amount')).toBe('30')

  page.instance.onPick({ detail: { value: '1' } })
  await settle()
  expect(text(page, '#amount')).toBe('20')
  page.instance.onPick({ detail: { value: '99' } })
  expect(page.data.quantity).toBe(3)
})

test('amounts that are not whole yuan are written as yuan and jiao', async () => {
  const odd = fixtures.campaign({ amount_fen: 150 })
  const page = await open(fixtures.entry({ campaign: odd, max_quantity: 1000 }))
  expect(page.data.range).toHaveLength(1000)
  expect(text(page, '#price')).toBe('1.5')
  page.instance.onPick({ detail: { value: '999' } })
  await settle()
  expect(text(page, '#amount')).toBe('1500')
  page.instance.onPick({ detail: { value: '2' } })
  await settle()
  expect(text(page, '#amount')).toBe('4.5')
})

test('the message keeps at most 50 characters, counted as a person counts them', async () => {
  const page = await open(fixtures.entry())
  const kept = page.instance.onMessage({ detail: { value: '加油'.repeat(30) } })
  expect(Array.from(kept)).toHaveLength(50)
  await settle()
  expect(page.data.messageLength).toBe(50)
  page.instance.onMessage({ detail: { value: '😀'.repeat(10) } })
  expect(page.data.messageLength).toBe(10)
})
