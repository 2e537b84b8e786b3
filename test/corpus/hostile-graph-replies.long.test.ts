import { defineGraphReplyTests } from './hostile-graph-replies.js';

// Every hostile Graph reply, those that wait out a real back-off included.
defineGraphReplyTests(() => true);
