import { onBeforeUnmount, onMounted, ref } from 'vue'

/** True below 768 px: tables become cards, the menu a drawer. */
export function useNarrow(limit = 768) {
  const narrow = ref(typeof window !== 'undefined' && window.innerWidth < limit)
  const update = () => (narrow.value = window.innerWidth < limit)
  onMounted(() => window.addEventListener('resize', update))
  onBeforeUnmount(() => window.removeEventListener('resize', update))
  return narrow
}
