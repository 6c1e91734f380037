// End to end: the pages against the real warmfund server on SQLite and its stand-in of WeChat.
// The test plays WeChat's part: wx.request speaks HTTP to the server, wx.login hands out fresh
// codes of one worker, and wx.requestPayment pays through the stand-in's control endpoint, as
// the worker confirming WeChat's payment sheet would.
const { spawn, spawnSync } = require('child_process')
const fs = require('fs')
const http = require('http')
const net = require('net')
const os = require('os')
const path = require('path')
const { setTimeout: wait } = require('timers/promises')

const { openPage, settle, text, tap } = require('./helpers')
const config = require('../config')

const REPO = path.resolve(__dirname, '..', '..')
const PYTHON = process.env.E2E_PYTHON || path.join(REPO, '.venv', 'bin', 'python')
const CLI = 'import sys; from app.cli import main; sys.argv[0] = "warmfund"; main()'
// Starting takes seconds on an idle machine; a machine busy with other suites may need minutes.
const START_SECONDS = 180

// One HTTP exchange: { status, data } with the JSON body parsed.
function httpJson(method, url, body, headers = {}, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body))
    const req = http.request(url, {
      method,
      agent: false, // no kept-alive sockets to hold the test process open at the end
      headers: Object.assign(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}, headers),
      timeout: timeoutMs
    }, res => {
      const chunks = []
      res.on('data', chunk => chunks.push(chunk))
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        let data = raw
        try { data = JSON.parse(raw) } catch (e) { /* not JSON: kept as text */ }
        resolve({ status: res.statusCode, data })
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    if (payload) req.write(payload)
    req.end()
  })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

let server, instance, base, standIn, output = ''

function warmfundEnv() {
  const env = Object.assign({}, process.env, {
    WARMFUND_APP_DEVELOPMENT: 'true', // as run.sh: the stand-in, generated keys, demo units
    WARMFUND_APP_INSTANCE_DIR: instance,
    WARMFUND_APP_PUBLIC_URL: base,
    WARMFUND_APP_MAX_QUANTITY: '50', // not the default, so the picker shows it came from the server
    PYTHONUNBUFFERED: '1'
  })
  // SQLite under the instance folder, the stand-in in the same process.
  delete env.WARMFUND_CONFIG
  delete env.WARMFUND_DATABASE_URL
  return env
}

async function startServer() {
  instance = fs.mkdtempSync(path.join(os.tmpdir(), 'warmfund-e2e-'))
  const port = await freePort()
  base = 'http://127.0.0.1:' + port
  const init = spawnSync(PYTHON, ['-c', CLI, 'init'], { cwd: REPO, env: warmfundEnv(), encoding: 'utf8', timeout: START_SECONDS * 1000 })
  if (init.status !== 0) throw new Error('warmfund init failed:\n' + init.stdout + init.stderr)
  server = spawn(PYTHON, ['-c', CLI, 'run', '--host', '127.0.0.1', '--port', String(port), '--no-reload'],
    { cwd: REPO, env: warmfundEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  server.stdout.on('data', chunk => { output += chunk })
  server.stderr.on('data', chunk => { output += chunk })
  const deadline = Date.now() + START_SECONDS * 1000
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break
    // `warmfund run` says where its stand-in listens (its port is its own).
    const said = / \* WeChat stand-in on (http:\/\/[^\s]+)/.exec(output)
    if (said) standIn = said[1]
    const up = standIn && await httpJson('GET', base + '/api/campaigns').catch(() => null)
    if (up && up.status === 200) return
    await wait(200)
  }
  throw new Error('warmfund did not start:\n' + output)
}

async function stopServer() {
  if (server && server.exitCode === null) {
    const exited = new Promise(resolve => server.once('exit', resolve))
    server.kill('SIGTERM')
    await Promise.race([exited, wait(10000, null, { ref: false })])
    if (server.exitCode === null) server.kill('SIGKILL')
  }
  if (instance) fs.rmSync(instance, { recursive: true, force: true })
}

// WeChat as the pages meet it, with the server and stand-in above behind it.
function realWx() {
  const storage = new Map()
  const orders = new Map() // prepay package → out_trade_no, as WeChat Pay knows its orders
  let logins = 0
  const wx = {
    navigations: [],
    request(opts) {
      const header = Object.assign({}, opts.header)
      httpJson(opts.method || 'GET', opts.url, opts.data, header, opts.timeout).then(res => {
        const order = res.data && res.data.payment
        if (order) orders.set(order.package, res.data.out_trade_no)
        opts.success({ statusCode: res.status, data: res.data, header: {} })
      }, err => opts.fail({ errMsg: 'request:fail ' + err.message }))
    },
    login(opts) {
      logins += 1 // fresh codes of one person: the stand-in maps "worker#N" to one openid
      setTimeout(() => opts.success({ code: 'e2e-worker#' + Date.now() + '-' + logins, errMsg: 'login:ok' }), 0)
    },
    requestPayment(opts) {
      const outTradeNo = orders.get(opts.package)
      if (!outTradeNo) return opts.fail({ errMsg: 'requestPayment:fail unknown prepay_id' })
      httpJson('POST', standIn + '/_sim/orders/' + outTradeNo + '/pay', {}).then(res => {
        if (res.status === 200) opts.success({ errMsg: 'requestPayment:ok' })
        else opts.fail({ errMsg: 'requestPayment:fail ' + JSON.stringify(res.data) })
      }, err => opts.fail({ errMsg: 'requestPayment:fail ' + err.message }))
    },
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: key => storage.delete(key),
    redirectTo: o => wx.navigations.push(o.url),
    navigateTo: o => wx.navigations.push(o.url),
    showShareMenu: () => {},
    stopPullDownRefresh: () => {},
    canIUse: () => false
  }
  return wx
}

async function until(check, what, seconds = 30) {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (check()) return
    await settle()
    await wait(50)
  }
  throw new Error('gave up waiting for ' + what)
}

async function campaignTotal(code) {
  const res = await httpJson('GET', base + '/api/campaigns/' + code)
  expect(res.status).toBe(200)
  return res.data
}

beforeAll(startServer, (2 * START_SECONDS + 30) * 1000)
afterAll(stopServer)

test('a worker scans, donates 3 shares, sees the new total and finds the donation in mine', async () => {
  config.baseUrl = base
  const wx = global.wx = realWx()
  const before = await campaignTotal('one-yuan')

  // Scan the unit's ordinary-URL QR code: WeChat hands the page the link, encoded.
  const link = base + '/d/DX-XF/one-yuan'
  const donate = await openPage('donate', { q: encodeURIComponent(link), scancode_time: '1796187741' })
  await until(() => donate.data.state !== 'loading', 'the donate page')
  expect(text(donate, '#campaign-name')).toBe('一元捐')
  expect(text(donate, '#unit-path')).toBe('大兴区总工会 › 兴丰街道总工会')
  expect(donate.data.maxQuantity).toBe(50) // the server's [app].max_quantity, from /api/entry

  tap(donate, '#plus')
  await settle()
  tap(donate, '#plus')
  await settle()
  expect(text(donate, '#amount')).toBe('3')
  tap(donate, '#submit')
  await until(() => wx.navigations.length > 0, 'the result page', 60)
  const [resultUrl] = wx.navigations
  expect(resultUrl).toMatch(/^\/pages\/result\/result\?no=WF\w+$/)
  const no = decodeURIComponent(resultUrl.split('no=')[1])

  const after = await campaignTotal('one-yuan')
  expect(after.total_fen - before.total_fen).toBe(3 * before.amount_fen)
  expect(after.donation_count - before.donation_count).toBe(1)

  const result = await openPage('result', { no })
  await until(() => result.data.state !== 'loading', 'the result')
  expect(text(result, '#status')).toBe('已支付')
  expect(text(result, '#amount')).toBe('3')
  expect(text(result, '#summary')).toBe('3 份 · 一元捐 · 兴丰街道总工会')
  expect(text(result, '#campaign-total')).toBe(String((after.total_fen / 100)))

  const mine = await openPage('mine')
  await until(() => mine.data.state !== 'loading', 'mine')
  const found = mine.data.items.find(item => item.no === no)
  expect(found).toMatchObject({ statusText: '已支付', amountYuan: '3', quantity: 3, campaign: '一元捐', unit: '兴丰街道总工会' })
}, 120 * 1000)
