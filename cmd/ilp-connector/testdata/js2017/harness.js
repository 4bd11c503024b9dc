'use strict'
// Runs ilp-connector 21.1.10 with ilp-plugin-virtual 16 peers whose RPC is
// served on POST /rpc?method=&prefix= (as ILP Kit 3 served /api/peers/rpc),
// with the plugin stores in memory (DB_URI must be set, to anything).
const http = require('http')
const url = require('url')
const Module = require('module')

function memStore () {
  const m = new Map()
  return {
    get: async (k) => m.get(k),
    put: async (k, v) => { m.set(k, v) },
    del: async (k) => { m.delete(k) }
  }
}

// Replace the connector's Sequelize plugin store with the memory store.
const storePath = require.resolve('ilp-connector/src/lib/pluginStore.js')
const storeModule = new Module(storePath)
storeModule.filename = storePath
storeModule.loaded = true
storeModule.exports = function MemoryStore () { return memStore() }
require.cache[storePath] = storeModule

const createApp = require('ilp-connector/src/app')
const app = createApp()

const server = http.createServer((req, res) => {
  const q = url.parse(req.url, true).query
  let body = ''
  req.on('data', (d) => { body += d })
  req.on('end', async () => {
    let plugin
    try { plugin = q.prefix && app.getPlugin(q.prefix) } catch (e) {}
    const auth = (req.headers.authorization || '').replace(/^Bearer /, '')
    if (!plugin) { res.statusCode = 401; return res.end('no such peer') }
    if (!plugin.isAuthorized(auth)) { res.statusCode = 403; return res.end('bad token') }
    res.setHeader('Content-Type', 'application/json')
    try {
      const result = await plugin.receive(q.method, JSON.parse(body))
      res.end(JSON.stringify(result))
    } catch (e) {
      res.end(JSON.stringify({ id: e.name, message: e.message }))
    }
  })
})
server.listen(+process.env.HARNESS_PORT, '127.0.0.1', () => {
  app.listen().then(() => console.log('READY'))
})
