const { fakeServer, fakeWx, openPage, settle, text, json, apiError } = require('./helpers')
const fixtures = require('./fixtures')

const STATUSES = ['paid', 'pending', 'refunded', 'refunding', 'closed']

function page(n, count, next) {
  const donations = []
  for (let i = 0; i < count; i += 1) {
    donations.push(fixtures.donation({
      status: STATUSES[(n * 20 + i) % STATUSES.length],
      unit: i % 2 ? 'DX-XF' : 'DX',
      campaign: i % 3 ? 'one-yuan' : 'ten-yuan'
    }))
  }
  return { donations, next }
}

let server
beforeEach(() => {
  server = fakeServer()
    .on('POST /api/login', () => json(200, { token: 't', expires_in: 7200 }))
    .on('GET /api/campaigns', () => json(200, { campaigns: [fixtures.campaign(), fixtures.campaign({ code: 'ten-yuan', name: '十元捐' })] }))
    .on('GET /api/units/*', req => json(200, req.path.endsWith('/DX') ? fixtures.unit({ code: 'DX', name: '大兴区总工会' }) : fixtures.unit()))
  global.wx = fakeWx(server)
})

test('mine lists the worker\'s donations with statuses in Chinese and pages on reaching the bottom', async () => {
  const first = page(0, 20, 'cursor-2')
  const second = page(1, 3, null)
  server.on('GET /api/me/donations', req => json(200, req.query.cursor === 'cursor-2' ? second : first))
  const mine = await openPage('mine')
  expect(mine.data.items).toHaveLength(20)
  expect(mine.data.items.slice(0, 5).map(i => i.statusText)).toEqual(['已支付', '待支付', '已退款', '退款中', '已关闭'])
  expect(mine.data.items[1]).toMatchObject({ campaign: '一元捐', unit: '兴丰街道总工会', amountYuan: '3' })
  expect(mine.data.items[0]).toMatchObject({ campaign: '十元捐', unit: '大兴区总工会', time: '2026-12-02 13:02' })
  expect(mine.querySelectorAll('.donation')).toHaveLength(20)
  expect(text(mine, '#footer')).toBe('上拉加载更多')

  mine.instance.onReachBottom()
  mine.instance.onReachBottom() // a second scroll while the page loads asks nothing more
  await settle()
  const asked = server.calls('GET /api/me/donations')
  expect(asked.map(r => r.query.cursor)).toEqual([undefined, 'cursor-2'])
  expect(mine.data.items).toHaveLength(23)
  expect(mine.data.items[20].no).toBe(second.donations[0].out_trade_no)
  expect(text(mine, '#the-end')).toBe('没有更多了')

  mine.instance.onReachBottom()
  await settle()
  expect(server.calls('GET /api/me/donations')).toHaveLength(2)
  // names were looked up once: one list of campaigns, each unit once
  expect(server.calls('GET /api/campaigns')).toHaveLength(1)
  expect(server.requests.filter(r => r.path.startsWith('/api/units/'))).toHaveLength(2)
})

test('a worker with no donations is told how to give', async () => {
  server.on('GET /api/me/donations', () => json(200, { donations: [], next: null }))
  const mine = await openPage('mine')
  expect(text(mine, '#empty')).toContain('扫描单位的捐款二维码')
})

test('a failed next page says so and the next scroll tries again', async () => {
  const first = page(0, 20, 'cursor-2')
  let fail = true
  server.on('GET /api/me/donations', req => {
    if (!req.query.cursor) return json(200, first)
    return fail ? apiError(500, 'internal_error', '服务器出错了') : json(200, page(1, 1, null))
  })
  const mine = await openPage('mine')
  mine.instance.onReachBottom()
  await settle()
  expect(text(mine, '#more-error')).toBe('服务器出错了（上拉重试）')
  fail = false
  mine.instance.onReachBottom()
  await settle()
  expect(mine.data.items).toHaveLength(21)
})
