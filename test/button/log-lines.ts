export { captureLog } from '../support/log-capture.js';
