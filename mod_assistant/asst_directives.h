#ifndef ASST_DIRECTIVES_H
#define ASST_DIRECTIVES_H

/* The one table of mod_assistant's directives. It drives parsing (each kind
 * has one parser), merging (by kind and field), and the reference in
 * docs/directives.md (tools/directive-docs prints it; `make check` fails when
 * the committed page differs). No httpd headers here.
 *
 * X(name, scope, kind, field, syntax, default, help)
 *   scope: SERVER (main server / virtual host) or DIR (<Location> etc.)
 *   kind:  how the argument is parsed and stored (see asst_config.c) */
#define ASST_DIRECTIVES(X)                                                              \
    X(AssistantRedis, SERVER, REDIS_ADDR, redis_addr, "host:port | [IPv6]:port | unix:/path", \
      "127.0.0.1:6379", "Redis server the webhooks are queued in.")                     \
    X(AssistantRedisPasswordFile, SERVER, SECRET_FILE, redis_password, "path",          \
      "none (no AUTH)", "File whose first line is the Redis password (AUTH). Read at "  \
      "startup by root; never logged.")                                                 \
    X(AssistantRedisTimeout, SERVER, MILLIS, redis_timeout_ms, "milliseconds", "250",   \
      "Connect and command timeout for Redis. When it passes, the message is spooled.") \
    X(AssistantTwilioAuthToken, DIR, SIGNING_KEY, token, "token", "none",                    \
      "Twilio auth token that signs the webhooks. Prefer AssistantTwilioAuthTokenFile " \
      "so the token is not in httpd.conf.")                                             \
    X(AssistantTwilioAuthTokenFile, DIR, SIGNING_KEY_FILE, token, "path", "none",            \
      "File whose first line is the Twilio auth token.")                                \
    X(AssistantTwilioSecondaryAuthTokenFile, DIR, SIGNING_KEY_FILE, token2, "path", "none",  \
      "A second token that also validates, for rotating the auth token without "        \
      "downtime.")                                                                      \
    X(AssistantTwilioAccountSid, DIR, ACCOUNT_SID, account_sid, "AC...", "any",         \
      "Refuse (403) webhooks whose AccountSid is not this one.")                        \
    X(AssistantPublicURL, DIR, URL, public_url, "URL", "none (required)",               \
      "The URL Twilio posts to and signs, as Twilio sees it (scheme, host, path), "     \
      "which differs from the local one behind TLS offload or a proxy. A query "        \
      "string on the request is appended to it.")                                     \
    X(AssistantStream, DIR, STRING, stream, "key",                                      \
      "{asst}:in for assistant-sms, {asst}:status for assistant-status",                \
      "Redis stream the envelopes are added to.")                                       \
    X(AssistantDedupeTTL, DIR, SECONDS, dedupe_ttl, "seconds", "86400",                 \
      "How long a MessageSid is remembered to drop Twilio's retries.")                  \
    X(AssistantMaxBody, DIR, BYTES, max_body, "bytes", "65536",                         \
      "Largest request body accepted; larger gets 413 without being read.")             \
    X(AssistantSpoolDir, DIR, DIRPATH, spool_dir, "directory", "none",                  \
      "Where envelopes go (one file each, fsync'd) while Redis is unreachable. "        \
      "Without it such requests get 503 so Twilio retries. Must be writable by "        \
      "httpd's User.")                                                                  \
    X(AssistantRateLimit, DIR, RATE, rate, "n/seconds | 0", "0 (off)",                  \
      "At most n messages per sender (From) in each window of seconds; more get 429.")

#endif
