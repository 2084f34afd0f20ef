import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { auth, claimsOf } from './auth'
import { useSession } from './stores/session'
import './style.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(router).use(ElementPlus, { locale: zhCn })
app.mount('#app')

// A renewed token may carry new claims (roles changed): keep the session store current.
void auth().then((m) => m.events.addUserLoaded((u) => useSession(pinia).setClaims(claimsOf(u.access_token))))
