// A real lifeline-relay process for the hostile-client suite: the built package,
// configured with the CLI's flags, answering `stats` requests over the IPC channel
// so tests can see what it refused and closed. Plain JS: it runs the built dist.
import { createRelay, parseCommandLine } from '../../dist/index.js'

const command = parseCommandLine(process.argv.slice(2), {})
if (command.command !== 'run') {
  throw new Error('relay-child needs relay flags')
}
const relay = await createRelay(command.config)
process.on('message', message => {
  if (message.type === 'stats') {
    process.send({ type: 'stats', id: message.id, stats: relay.stats() })
  } else if (message.type === 'stop') {
    void relay.stop().then(() => process.exit(0))
  }
})
process.on('disconnect', () => { process.exit(0) })
process.send({ type: 'ready', multiaddrs: relay.multiaddrs })
