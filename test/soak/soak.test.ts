import { defineSoak } from './soak.js';

// The first four days of the month; the whole month is soak.long.test.ts (npm run test:long).
defineSoak('four days in fast time: hourly refreshes with rotation, an outage, daily presses, a restart from the cache; nothing leaks, nothing is lost', 4);
