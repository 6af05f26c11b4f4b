import { runMain } from '@app/platform';
import { createApp } from './bootstrap';

runMain(createApp);
