import { defineReplyTests, type Malformation, type Place } from './replies.js';

// One bad reply at each place, each kind at least once; every kind at every place is
// replies.long.test.ts (npm run test:long).
const PICK: Record<Place, Malformation> = {
  openid: 'no answer',
  devicecode: 'truncated JSON',
  poll: 'HTML instead of JSON',
  refresh: 'a 5 MB body',
  graph: 'HTML instead of JSON',
};

defineReplyTests((place, kind) => PICK[place] === kind);
