/**
 * Promises a test is awaiting through `page.evaluate`, held until they settle.
 * Chromium's inspector tracks an evaluation's promise through a weak handle and may
 * collect one that only the page's own event loop will settle, failing the call with
 * "Promise was collected" (seen in 2 of 5 CI runs, on a connect). Holding each
 * promise here keeps it alive until it is done; it changes nothing the SDK does.
 */
const awaited = new Set<Promise<unknown>>()

export function retaining<T extends object> (target: T): T {
  return new Proxy(target, {
    get (object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver)
      if (typeof value !== 'function') {
        return value
      }
      return (...args: unknown[]) => {
        const result: unknown = Reflect.apply(value, object, args)
        if (result instanceof Promise) {
          awaited.add(result)
          void result.finally(() => { awaited.delete(result) }).catch(() => {})
        }
        return result
      }
    }
  })
}

