// useAction runs the operations of an admin page: busy while one runs (for
// the buttons' progress), a success message and a reload when it worked, and
// the host's own message (already in the user's language) when it did not.
import { ref } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '../api'

export function useAction(reload: () => Promise<unknown>) {
  const busy = ref(false)
  async function run(f: () => Promise<unknown>, ok: string): Promise<boolean> {
    busy.value = true
    try {
      await f()
      ElMessage.success(ok)
      await reload()
      return true
    } catch (e) {
      ElMessage.error(e instanceof ApiError ? e.message : String(e))
      return false
    } finally {
      busy.value = false
    }
  }
  return { busy, run }
}
