import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { ElMessage } from 'element-plus'
import type { Answer } from './api/answers'
import { api, ApiError } from './api/client'

/** True below 768 px: tables become cards, the menu a drawer. */
export function useNarrow(limit = 768) {
  const narrow = ref(typeof window !== 'undefined' && window.innerWidth < limit)
  const update = () => (narrow.value = window.innerWidth < limit)
  onMounted(() => window.addEventListener('resize', update))
  onBeforeUnmount(() => window.removeEventListener('resize', update))
  return narrow
}

export const FIX_MARKED = '请按提示修改标红的项目。'

/** Saving a form whose refusals name fields (problem+json ``errors``): ``errors`` holds each
 * field's Chinese message for its ``el-form-item``, ``banner`` what no field of the form
 * shows (a duplicate of another person, a state conflict), or a note to fix the marked ones;
 * ``saving`` is true while the request runs. ``save`` resolves to the saved record, or to
 * null after a refusal; any other error is thrown on. */
export function useFieldErrorSave(form: object) {
  const errors = ref<Record<string, string>>({})
  const banner = ref('')
  const saving = ref(false)

  function clear() {
    errors.value = {}
    banner.value = ''
  }

  async function save<T>(request: () => Promise<T>): Promise<T | null> {
    saving.value = true
    clear()
    try {
      return await request()
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      errors.value = e.byField
      banner.value = Object.keys(errors.value).some((k) => k in form) ? FIX_MARKED : e.detail
      return null
    } finally {
      saving.value = false
    }
  }

  return { errors, banner, saving, clear, save }
}

/** What a toast tells the clerk (Element Plus's ElMessage; a test passes its own). */
export interface Notify {
  success: (text: string) => unknown
  error: (text: string) => unknown
}

/** A write from a dialog or a form whose outcome is a toast: ``submit(request, done)`` clears
 * the marks, runs the request and toasts ``done``; a refusal puts each field's message in
 * ``errors`` (for its ``el-form-item``) and toasts the API's Chinese ``detail``. Resolves true
 * on success, false after a refusal; any other error is thrown on. */
export function useToastedSubmit(notify: Notify = ElMessage) {
  const errors = ref<Record<string, string>>({})

  async function submit(request: () => Promise<unknown>, done: string): Promise<boolean> {
    errors.value = {}
    try {
      await request()
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      errors.value = e.byField
      notify.error(e.detail)
      return false
    }
    notify.success(done)
    return true
  }

  return { errors, submit }
}

export interface Page<T> {
  rows: T[]
  total: number
}

export interface PagedListOptions {
  page?: number
  pageSize?: number
  /** The filters worth keeping in the address (status, region…); ``page`` is added past 1. */
  query?: () => Record<string, string>
  /** Puts the list's query in the address (``router.replace``), so a reload or a link back
   * opens the same page. */
  sync?: (query: Record<string, string>) => void
  /** A refused or failed load (the rows stay as they were). */
  onError?: (e: unknown) => void
}

/** One list paged on the server: ``search(p)`` loads page ``p`` with the current filters,
 * ``reload`` the page on screen (after a change), ``resize`` another page size from page 1. */
export function usePagedList<T>(fetchPage: (page: number, pageSize: number) => Promise<Page<T>>, options: PagedListOptions = {}) {
  const rows = ref([]) as Ref<T[]>
  const total = ref(0)
  const page = ref(options.page && options.page > 0 ? options.page : 1)
  const pageSize = ref(options.pageSize ?? 20)
  const loading = ref(false)
  let latest = 0

  async function search(p: number) {
    page.value = p
    loading.value = true
    const mine = ++latest
    try {
      const res = await fetchPage(p, pageSize.value)
      if (mine !== latest) return // a newer search answered, or will
      rows.value = res.rows
      total.value = res.total
      if (options.sync) {
        const query: Record<string, string> = {}
        for (const [k, v] of Object.entries(options.query?.() ?? {})) if (v) query[k] = v
        if (p > 1) query.page = String(p)
        options.sync(query)
      }
    } catch (e) {
      if (!options.onError) throw e
      options.onError(e)
    } finally {
      if (mine === latest) loading.value = false
    }
  }

  const reload = () => search(page.value)

  function resize(size: number) {
    pageSize.value = size
    return search(1)
  }

  return { rows, total, page, pageSize, loading, search, reload, resize }
}

export interface TalentOption {
  id: string
  label: string
}

type TalentHits = Answer<'/api/v1/talents'>

/** Talents found by name for a picker: ``search(text)`` asks the talent list for the first
 * 20 matches; ``options`` are them as 姓名（所属单位）. A later search that answers first wins
 * over an earlier one that answers late. */
export function useTalentSearch(find: (text: string) => Promise<TalentHits> = (q) => api<TalentHits>('/api/v1/talents', { query: { q, page_size: 20 } })) {
  const options = ref<TalentOption[]>([])
  let latest = 0

  async function search(text: string) {
    const mine = ++latest
    const res = await find(text)
    if (mine !== latest) return
    options.value = res.talents.map((t) => ({ id: t.id, label: `${t.fields?.name ?? ''}（${t.tenant_name}）` }))
  }

  return { options, search }
}
