import { describe, expect, it } from 'vitest'
import { reactive } from 'vue'
import { ApiError } from '../../src/api/client'
import type { Answer } from '../../src/api/answers'
import { FIX_MARKED, useFieldErrorSave, usePagedList, useTalentSearch, useToastedSubmit } from '../../src/composables'

describe('useFieldErrorSave', () => {
  it('puts a refusal naming form fields under those fields, with a note to fix the marked ones', async () => {
    const form = reactive({ name: '', phone: '' })
    const { errors, banner, saving, save } = useFieldErrorSave(form)
    const saved = await save(() => Promise.reject(new ApiError(422, '联系电话格式不正确。', [{ field: 'body.phone', message: '联系电话格式不正确' }])))
    expect(saved).toBeNull()
    expect(errors.value).toEqual({ phone: '联系电话格式不正确' })
    expect(banner.value).toBe(FIX_MARKED)
    expect(saving.value).toBe(false)
  })

  it('shows a refusal no field of the form names in the banner, and a success clears both', async () => {
    const form = reactive({ name: '' })
    const { errors, banner, save } = useFieldErrorSave(form)
    await save(() => Promise.reject(new ApiError(409, '已有同名同单位的人才（疑似重复）。', [{ field: 'id_number', message: '重复' }])))
    expect(banner.value).toBe('已有同名同单位的人才（疑似重复）。')
    expect(await save(() => Promise.resolve({ id: 't1' }))).toEqual({ id: 't1' })
    expect(errors.value).toEqual({})
    expect(banner.value).toBe('')
  })

  it('throws on what is not a refusal of the API (a bug must not look like a field error)', async () => {
    const { save, saving } = useFieldErrorSave({})
    await expect(save(() => Promise.reject(new TypeError('boom')))).rejects.toThrow('boom')
    expect(saving.value).toBe(false)
  })
})

describe('usePagedList', () => {
  const people = Array.from({ length: 45 }, (_, i) => `人才${i + 1}`)
  const fetchPage = async (p: number, size: number) => ({ rows: people.slice((p - 1) * size, p * size), total: people.length })

  it('loads the page asked for and keeps the filters and the page in the address', async () => {
    const synced: Record<string, string>[] = []
    const list = usePagedList(fetchPage, { query: () => ({ status: 'certified', tenant_id: '' }), sync: (q) => synced.push(q) })
    await list.search(3)
    expect(list.rows.value).toEqual(['人才41', '人才42', '人才43', '人才44', '人才45'])
    expect(list.total.value).toBe(45)
    expect(list.page.value).toBe(3)
    expect(synced[synced.length - 1]).toEqual({ status: 'certified', page: '3' })
    await list.search(1)
    expect(synced[synced.length - 1]).toEqual({ status: 'certified' })
    expect(list.loading.value).toBe(false)
  })

  it('a new page size starts again from page 1; reload keeps the page on screen', async () => {
    const list = usePagedList(fetchPage, { page: 2 })
    await list.reload()
    expect(list.rows.value[0]).toBe('人才21')
    await list.resize(50)
    expect([list.page.value, list.rows.value.length]).toEqual([1, 45])
  })

  it('keeps the last search when an earlier one answers late', async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((r) => (release = r))
    const list = usePagedList(async (p: number, size: number) => {
      if (p === 1) await slow
      return fetchPage(p, size)
    })
    const first = list.search(1)
    await list.search(2)
    release()
    await first
    expect(list.page.value).toBe(2)
    expect(list.rows.value[0]).toBe('人才21')
  })

  it('hands a failed load to onError and leaves the rows as they were', async () => {
    const seen: unknown[] = []
    const list = usePagedList(fetchPage, { onError: (e) => seen.push(e) })
    await list.search(1)
    const failing = usePagedList(() => Promise.reject(new ApiError(403, '无权查看。')), { onError: (e) => seen.push(e) })
    await failing.search(1)
    expect(seen).toHaveLength(1)
    expect(failing.rows.value).toEqual([])
    expect(failing.loading.value).toBe(false)
  })
})

describe('useTalentSearch', () => {
  type Hits = Answer<'/api/v1/talents'>
  const talent = (id: string, name: string, tenant: string) => ({ id, tenant_name: tenant, fields: { name } }) as Hits['talents'][number]
  const answer = (...talents: Hits['talents']) => ({ talents, total: talents.length, page: 1, page_size: 20 }) as Hits

  it('offers each match as 姓名（所属单位）, asking the list for the name typed', async () => {
    const asked: string[] = []
    const { options, search } = useTalentSearch(async (q) => {
      asked.push(q)
      return answer(talent('t1', '王科普', '惠济区科协'), talent('t2', '王小普', '金水区科协'))
    })
    await search('王')
    expect(asked).toEqual(['王'])
    expect(options.value).toEqual([
      { id: 't1', label: '王科普（惠济区科协）' },
      { id: 't2', label: '王小普（金水区科协）' },
    ])
  })

  it('keeps the matches of the last name typed when an earlier search answers late', async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((r) => (release = r))
    const { options, search } = useTalentSearch(async (q) => {
      if (q === '王') await slow
      return q === '王' ? answer(talent('t1', '王科普', '惠济区科协')) : answer(talent('t3', '王大锤', '中原区科协'))
    })
    const first = search('王')
    await search('王大')
    release()
    await first
    expect(options.value.map((o) => o.label)).toEqual(['王大锤（中原区科协）'])
  })
})

describe('useToastedSubmit', () => {
  const toasts = () => {
    const seen: string[] = []
    return { seen, notify: { success: (t: string) => seen.push(`ok:${t}`), error: (t: string) => seen.push(`error:${t}`) } }
  }

  it('toasts the success and clears the marks of an earlier refusal', async () => {
    const { seen, notify } = toasts()
    const { errors, submit } = useToastedSubmit(notify)
    const refusal = new ApiError(422, '服务时长不能超过24小时。', [{ field: 'body.hours', message: '服务时长不能超过24小时' }])
    expect(await submit(() => Promise.reject(refusal), '已登记')).toBe(false)
    expect(errors.value).toEqual({ hours: '服务时长不能超过24小时' })
    expect(await submit(() => Promise.resolve({ id: 'r1' }), '已登记，待单位确认')).toBe(true)
    expect(errors.value).toEqual({})
    expect(seen).toEqual(['error:服务时长不能超过24小时。', 'ok:已登记，待单位确认'])
  })

  it('throws on what is not a refusal of the API, with no toast', async () => {
    const { seen, notify } = toasts()
    const { submit } = useToastedSubmit(notify)
    await expect(submit(() => Promise.reject(new TypeError('boom')), '已保存')).rejects.toThrow('boom')
    expect(seen).toEqual([])
  })
})
