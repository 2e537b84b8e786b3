import { defineGraphReplyTests } from './hostile-graph-replies.js';

// Every hostile Graph reply that takes no real waiting; the ones that wait out a back-off are in
// hostile-graph-replies.long.test.ts (npm run test:long).
defineGraphReplyTests((c) => !c.slow);
