#ifndef ASST_KEYS_H
#define ASST_KEYS_H

/* Every Redis key and stream name, here once (DESIGN.md "Contracts").
 * The {asst} hash tag keeps them in one Redis Cluster slot, so the ingest
 * script may touch several in one call. */

#define ASST_KEY_PREFIX "{asst}:"
#define ASST_STREAM_SMS ASST_KEY_PREFIX "in"           /* inbound texts */
#define ASST_STREAM_STATUS ASST_KEY_PREFIX "status"    /* Twilio status callbacks */
#define ASST_STREAM_DEAD ASST_KEY_PREFIX "dead"        /* dead letters, with the reason */
#define ASST_KEY_SEEN ASST_KEY_PREFIX "seen:"          /* + MessageSid: dedupe, with a TTL */
#define ASST_KEY_SEEN_STATUS ASST_KEY_PREFIX "seen:status:"   /* + sid:status */
#define ASST_KEY_RATE ASST_KEY_PREFIX "rl:"            /* + From: the rate limit counter */
#define ASST_GROUP "workers"                           /* the consumer group on both streams */

#endif
