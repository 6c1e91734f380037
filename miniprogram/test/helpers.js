// A stand-in for the `wx` object the pages call, and a way to load a page outside WeChat.
const path = require('path')
const simulate = require('miniprogram-simulate')
// Node's own, which neither jsdom hides nor jest's fake timers replace.
const { setImmediate: nextTurn } = require('timers')

const ROOT = path.resolve(__dirname, '..')

// Answers the pages' wx.request calls from handlers keyed by "METHOD /path" (the query string
// left out); each handler gets { method, path, query, data, header } and returns
// { status, data }, or 'timeout' / 'offline' for a request that never gets an answer.
function fakeServer() {
  const handlers = {}
  const requests = []
  return {
    requests,
    on(route, handler) {
      handlers[route] = handler
      return this
    },
    calls(route) {
      return requests.filter(r => r.method + ' ' + r.path === route)
    },
    handle(options) {
      const url = new URL(options.url)
      const query = {}
      url.searchParams.forEach((value, key) => { query[key] = value })
      const req = {
        method: options.method || 'GET',
        path: url.pathname,
        query,
        data: options.data,
        header: options.header || {}
      }
      requests.push(req)
      const handler = handlers[req.method + ' ' + req.path] ||
        handlers[req.method + ' ' + req.path.replace(/[^/]+$/, '*')]
      if (!handler) return { status: 404, data: { error: { code: 'not_found', message: '未找到' } } }
      return handler(req)
    }
  }
}

// The wx object: requests go to `server`, logins hand out fresh codes, payments do what
// `payment` says ('ok', 'cancel', 'fail' or a function), navigation is recorded.
function fakeWx(server, options = {}) {
  const storage = new Map()
  let logins = 0
  const wx = {
    navigations: [],
    payments: [],
    storage,
    payment: options.payment || 'ok',
    request(opts) {
      Promise.resolve().then(async () => {
        const answer = await server.handle(opts)
        if (answer === 'timeout') opts.fail({ errMsg: 'request:fail timeout' })
        else if (answer === 'offline') opts.fail({ errMsg: 'request:fail ' })
        else opts.success({ statusCode: answer.status, data: answer.data, header: {} })
      })
    },
    login(opts) {
      logins += 1
      Promise.resolve().then(() => opts.success({ code: 'code-' + logins, errMsg: 'login:ok' }))
    },
    requestPayment(opts) {
      wx.payments.push(opts)
      Promise.resolve().then(async () => {
        const outcome = typeof wx.payment === 'function' ? await wx.payment(opts) : wx.payment
        if (outcome === 'ok') opts.success({ errMsg: 'requestPayment:ok' })
        else if (outcome === 'cancel') opts.fail({ errMsg: 'requestPayment:fail cancel' })
        else opts.fail({ errMsg: 'requestPayment:fail ' + outcome })
      })
    },
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: key => storage.delete(key),
    redirectTo: o => wx.navigations.push({ how: 'redirectTo', url: o.url }),
    navigateTo: o => wx.navigations.push({ how: 'navigateTo', url: o.url }),
    showShareMenu: o => { wx.shareMenu = o },
    stopPullDownRefresh: () => {},
    canIUse: () => false
  }
  return wx
}

// Let every answered request, promise and render run (real timers).
async function settle(rounds = 10) {
  for (let i = 0; i < rounds; i += 1) await new Promise(resolve => nextTurn(resolve))
}

// Load, render and open a page as WeChat would: `onLoad(options)`.
// A page's code runs once per test file (jest keeps its module registry), so it is loaded once.
const loaded = {}
async function openPage(name, options = {}) {
  if (!loaded[name]) loaded[name] = simulate.load(path.join(ROOT, 'pages', name, name), { rootPath: ROOT })
  const id = loaded[name]
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  page.instance.onLoad(options)
  await settle()
  return page
}

function text(page, selector) {
  const found = page.querySelector(selector)
  return found ? found.dom.textContent.trim() : null
}

function tap(page, selector) {
  const found = page.querySelector(selector)
  if (!found) throw new Error('nothing to tap at ' + selector)
  found.dispatchEvent('tap')
}

const json = (status, data) => ({ status, data })
const apiError = (status, code, message) => json(status, { error: { code, message } })

module.exports = { ROOT, fakeServer, fakeWx, settle, openPage, text, tap, json, apiError }
