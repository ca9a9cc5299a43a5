import { createApp } from 'vue';
import App from './App.vue';
import { startLiveTracking } from './state';
import './styles.css';

startLiveTracking();
createApp(App).mount('#app');
