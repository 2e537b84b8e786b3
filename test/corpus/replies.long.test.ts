import { defineReplyTests } from './replies.js';

// Every malformation at every place the agent talks to the network.
defineReplyTests(() => true);
