import { describe, expect, it } from 'vitest'
import { ApiError, problemFrom, url } from '../../src/api/client'

describe('problem+json', () => {
  it('keeps the Chinese detail and puts each field error under its field', async () => {
    const r = new Response(
      JSON.stringify({
        title: 'Unprocessable Entity',
        detail: '提交的数据不符合要求：联系电话格式不正确。',
        errors: [
          { field: 'phone', message: '联系电话格式不正确' },
          { field: 'fields.email', message: '电子邮箱格式不正确' },
          { field: 'categories.0', message: '服务类别不正确' },
        ],
      }),
      { status: 422, headers: { 'content-type': 'application/problem+json' } },
    )
    const e = await problemFrom(r)
    expect(e.status).toBe(422)
    expect(e.detail).toBe('提交的数据不符合要求：联系电话格式不正确。')
    expect(e.byField).toEqual({ phone: '联系电话格式不正确', email: '电子邮箱格式不正确', categories: '服务类别不正确' })
  })
  it('reads an answer without errors (an API without field errors yet) as a banner only', async () => {
    const e = await problemFrom(new Response(JSON.stringify({ detail: '只有草稿可以修改。' }), { status: 409 }))
    expect(e.byField).toEqual({})
    expect(e.message).toBe('只有草稿可以修改。')
  })
  it('says the status when the body is not JSON', async () => {
    const e = await problemFrom(new Response('<html>bad gateway</html>', { status: 502 }))
    expect(e).toBeInstanceOf(ApiError)
    expect(e.detail).toBe('请求失败（502）')
  })
})

describe('url', () => {
  it('drops empty filters', () => {
    expect(url('/api/v1/talents', { q: '', status: 'draft', page: 2, tenant_id: undefined })).toBe('/api/v1/talents?status=draft&page=2')
  })
})
