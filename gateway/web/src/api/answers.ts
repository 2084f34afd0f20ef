// A route's JSON answer by its path and method, from the generated schema (schema.d.ts, made by
// `npm run gen:api` from the gateway's OpenAPI document). Naming the route rather than the
// component keeps a screen's types right when a response model is renamed (the component names
// follow the proto messages); a path or method the gateway does not have fails to compile.
import type { paths } from './schema'

type Method = 'get' | 'post' | 'put' | 'delete'
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never

/** The JSON body ``method`` on ``path`` answers with on success (200, else 201). */
export type Answer<P extends keyof paths, M extends Method = 'get'> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer Ok }
    ? Json<Ok>
    : R extends { 201: infer Created }
      ? Json<Created>
      : never
  : never

/** The element type of a list answer's array field (``ItemOf<Answer<'/api/v1/bases'>, 'bases'>``). */
export type ItemOf<A, K extends keyof A> = A[K] extends readonly (infer T)[] ? T : never
