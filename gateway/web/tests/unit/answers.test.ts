// The generated answer types resolve to the routes' models (a wrong path or method would be
// `never`, and every property access on it would compile): checked by vue-tsc, which reads
// this file with the sources; Vitest runs the same assertions as no-ops.
import { describe, expectTypeOf, it } from 'vitest'
import type { Answer, ItemOf } from '../../src/api/answers'
import type { Activity, Project } from '../../src/api/modules'
import type { CallDetail, RankingEntry } from '../../src/calls'
import type { TenantConsent } from '../../src/consents'

type IsNever<T> = [T] extends [never] ? true : false

describe('generated answers', () => {
  it('name the models of the routes', () => {
    expectTypeOf<IsNever<Project>>().toEqualTypeOf<false>()
    expectTypeOf<Project['allowed_actions']>().toEqualTypeOf<string[]>()
    expectTypeOf<Answer<'/api/v1/projects'>['total']>().toEqualTypeOf<number>()
    expectTypeOf<Activity['participants']>().toEqualTypeOf<number>()
    expectTypeOf<CallDetail['criteria'][number]['weight']>().toEqualTypeOf<number>()
    expectTypeOf<RankingEntry['scores'][number]['total']>().toEqualTypeOf<number>()
    expectTypeOf<TenantConsent['subject_name']>().toEqualTypeOf<string>()
  })

  it('take a created record from 201 when there is no 200', () => {
    expectTypeOf<Answer<'/api/v1/activities', 'post'>>().toEqualTypeOf<Activity>()
    expectTypeOf<IsNever<Answer<'/api/v1/activities', 'delete'>>>().toEqualTypeOf<true>()
  })

  it('pick the element of a list field', () => {
    expectTypeOf<ItemOf<{ rows: string[] }, 'rows'>>().toEqualTypeOf<string>()
    expectTypeOf<ItemOf<{ total: number }, 'total'>>().toEqualTypeOf<never>()
  })
})
