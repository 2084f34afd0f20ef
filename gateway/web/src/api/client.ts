// The one way the portal calls /api/v1: bearer token from the sign-in, problem+json turned into
// an ApiError whose field errors a form can put on its inputs.
import { accessToken, signIn } from '../auth'

export interface FieldError {
  field: string
  message: string
  label?: string
}

export class ApiError extends Error {
  readonly status: number
  readonly detail: string
  readonly errors: FieldError[]

  constructor(status: number, detail: string, errors: FieldError[] = []) {
    super(detail)
    this.status = status
    this.detail = detail
    this.errors = errors
  }

  /** Field name → message, for el-form-item's ``error`` prop (the last path segment). */
  get byField(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const e of this.errors) {
      const key = e.field.split('.').filter((x) => !/^\d+$/.test(x)).pop() ?? e.field
      if (key && !out[key]) out[key] = e.message
    }
    return out
  }
}

export async function problemFrom(r: Response): Promise<ApiError> {
  let detail = `请求失败（${r.status}）`
  let errors: FieldError[] = []
  try {
    const body = (await r.json()) as { detail?: string; title?: string; errors?: FieldError[] }
    detail = body.detail || body.title || detail
    errors = Array.isArray(body.errors) ? body.errors : []
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiError(r.status, detail, errors)
}

export interface RequestOptions {
  method?: string
  query?: Record<string, string | number | boolean | undefined | null>
  json?: unknown
  body?: BodyInit
  accept?: string
  onUploadProgress?: (fraction: number) => void
}

export function url(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

export async function raw(path: string, opts: RequestOptions = {}): Promise<Response> {
  const token = await accessToken()
  if (!token) {
    await signIn(window.location.pathname.replace(import.meta.env.BASE_URL.replace(/\/$/, ''), '') || '/')
    throw new ApiError(401, '登录已过期，请重新登录。')
  }
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` }
  if (opts.accept) headers.Accept = opts.accept
  let body = opts.body
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.json)
  }
  const r = await fetch(url(path, opts.query), { method: opts.method ?? 'GET', headers, body })
  if (!r.ok && r.status !== 202) throw await problemFrom(r)
  return r
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const r = await raw(path, opts)
  if (r.status === 204) return undefined as T
  return (await r.json()) as T
}

/** Save a file answer (xlsx, docx, zip) under the name the server gave it. */
export async function download(path: string, opts: RequestOptions = {}, fallback = 'download'): Promise<Response> {
  const r = await raw(path, opts)
  const cd = r.headers.get('content-disposition') ?? ''
  const m = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  const name = m ? decodeURIComponent(m[1]) : fallback
  const blob = await r.blob()
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
  return r
}

/** multipart upload with real progress (fetch has none for request bodies). */
export async function upload<T>(path: string, form: FormData, onProgress: (f: number) => void, query?: RequestOptions['query']): Promise<{ status: number; body: T; location: string | null }> {
  const token = await accessToken()
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest()
    x.open('POST', url(path, query))
    x.setRequestHeader('Authorization', `Bearer ${token}`)
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    x.onerror = () => reject(new ApiError(0, '网络连接失败，请稍后重试。'))
    x.onload = () => {
      let body: unknown = null
      try {
        body = JSON.parse(x.responseText)
      } catch {
        body = null
      }
      if (x.status >= 400) {
        const b = (body ?? {}) as { detail?: string; errors?: FieldError[] }
        const err = new ApiError(x.status, b.detail ?? `请求失败（${x.status}）`, b.errors ?? [])
        ;(err as ApiError & { body?: unknown }).body = body
        reject(err)
        return
      }
      resolve({ status: x.status, body: body as T, location: x.getResponseHeader('location') })
    }
    x.send(form)
  })
}
