import { defineSoak } from './soak.js';

defineSoak('a month in fast time: refreshes, rotation, outages, revocation, presses, restarts; nothing leaks, nothing is lost', 30);
