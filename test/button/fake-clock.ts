export { FakeClock } from '../support/fake-clock.js';
