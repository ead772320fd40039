#ifndef ASST_WORKER_DIRECTIVES_H
#define ASST_WORKER_DIRECTIVES_H

/* The one table of worker.conf directives: parsing, defaults and
 * docs/worker.conf.md (`assistant-worker --print-directives`).
 * X(Name, kind, field, default, choices, syntax, help); choices: "a|b|c" for
 * ENUM, an optional "min..max" for INT and POSITIVE. */
#define ASST_WORKER_DIRECTIVES(X)                                                          \
    X(Workers, POSITIVE, workers, "2", NULL, "n", "Agent children the master keeps running.") \
    X(Database, STRING, database, "dbname=assistant", NULL, "conninfo | URI",                \
      "libpq connection string or postgresql:// URI.")                                     \
    X(Redis, REDIS_ADDR, redis, "127.0.0.1:6379", NULL, "host:port | [IPv6]:port | unix:/path", \
      "Redis holding the streams mod_assistant writes.")                                   \
    X(RedisPasswordFile, SECRET_FILE, redis_password, NULL, NULL, "path",                  \
      "File whose first line is the Redis password.")                                      \
    X(Stream, STRING, stream, ASST_STREAM_SMS, NULL, "key", "Stream of incoming messages.")    \
    X(StatusStream, STRING, status_stream, ASST_STREAM_STATUS, NULL, "key",                   \
      "Stream of Twilio status callbacks.")                                                \
    X(TwilioAccountSid, STRING, twilio_account_sid, NULL, NULL, "AC...",                   \
      "Account that sends the replies.")                                                   \
    X(TwilioAuthTokenFile, SECRET_FILE, twilio_auth_token, NULL, NULL, "path",             \
      "File whose first line is the Twilio auth token (HTTP Basic password).")            \
    X(TwilioFrom, STRING, twilio_from, NULL, NULL, "+E.164",                               \
      "Number replies are sent from (or set TwilioMessagingServiceSid).")                  \
    X(TwilioMessagingServiceSid, STRING, twilio_messaging_service_sid, NULL, NULL, "MG...", \
      "Messaging service that picks the sender number.")                                   \
    X(TwilioApiBase, URL, twilio_api_base, "https://api.twilio.com", NULL, "URL",          \
      "Base of Twilio's REST API; tests point it at a local fake.")                        \
    X(TwilioStatusCallbackURL, URL, twilio_status_callback_url, NULL, NULL, "URL",         \
      "Where Twilio posts delivery status (an assistant-status location).")                \
    X(TwilioTimeout, POSITIVE, twilio_timeout, "10000", NULL, "ms",                        \
      "Longest one send to Twilio may take, connecting included; then it is a failure "     \
      "and the reply is retried.")                                                         \
    X(TwilioBreakerFailureRate, POSITIVE, twilio_breaker_failure_rate, "90", "1..100",     \
      "percent", "The circuit to Twilio opens when this share of the last "                \
      "TwilioBreakerWindow sends failed (timeout, connection error, 5xx; a 429 does not "   \
      "count), and sends fail fast for TwilioBreakerCooldown.")                            \
    X(TwilioBreakerWindow, POSITIVE, twilio_breaker_window, "12", "1..100", "sends",       \
      "How many of the latest sends (per process) the failure rate is taken over.")        \
    X(TwilioBreakerMinCalls, POSITIVE, twilio_breaker_min_calls, "10", NULL, "sends",      \
      "Sends recorded before the circuit may open (at most TwilioBreakerWindow); with "    \
      "Twilio down from the start it opens after this many.")                              \
    X(TwilioBreakerCooldown, POSITIVE, twilio_breaker_cooldown, "5000", NULL, "ms",        \
      "How long an open circuit fails fast; then up to 3 probe sends go out, and it "      \
      "closes unless TwilioBreakerFailureRate of them fail.")                              \
    X(SignupPolicy, ENUM, signup_policy, "pairing", "open|pairing|closed", "policy",       \
      "Unknown numbers: open = become users, pairing = get a code an operator approves, "  \
      "closed = ignored.")                                                                 \
    X(DefaultTimezone, STRING, default_timezone, "UTC", NULL, "IANA zone",                 \
      "Time zone new users start with. Until one is confirmed, their first reminder asks " \
      "(docs/agent.md).")                                                                  \
    X(PidFile, PATH, pid_file, NULL, NULL, "path", "Master's pid file (created O_EXCL).")  \
    X(User, STRING, user, NULL, NULL, "name", "User to run as when started as root.")      \
    X(LogFile, PATH, log_file, NULL, NULL, "path", "Log file; stderr when unset.")         \
    X(LogLevel, ENUM, log_level, "info", "error|warn|info|debug", "level", "Least severe level logged.") \
    X(TurnsInFlight, POSITIVE, turns_in_flight, "64", "1..1024", "n",                      \
      "Turns one agent child drives at once: while a model thinks about one, the child "    \
      "works on others. Each holds no database connection while it waits.")               \
    X(MaxTurnsPerChild, INT, max_turns_per_child, "0", NULL, "n",                          \
      "Retire an agent child after n turns (0 = never).")                                  \
    X(ShutdownTimeout, POSITIVE, shutdown_timeout, "35", NULL, "seconds",                  \
      "On TERM or HUP, how long children may finish their turns in flight before KILL: "   \
      "a model's turn may take TurnDeadline. A child with none left exits at once.")       \
    X(MaxDeliveries, POSITIVE, max_deliveries, "5", NULL, "n",                             \
      "Stream deliveries of one entry before it goes to the dead-letter stream.")          \
    X(ClaimIdle, POSITIVE, claim_idle, "60000", NULL, "ms",                                \
      "Pending entries idle this long are claimed from a consumer that died.")             \
    X(SpoolDir, PATH, spool_dir, NULL, NULL, "path",                                       \
      "mod_assistant's AssistantSpoolDir, drained into the stream.")                       \
    X(Planner, ENUM, planner, "rules", "rules|openai", "name",                             \
      "Who decides what a text asks for: rules = the built-in phrase parser (no network, "  \
      "no model); openai = any OpenAI-compatible chat model with tool calling (LLMBaseURL), " \
      "falling back to rules when it fails.")                                              \
    X(LLMBaseURL, URL, llm_base_url, NULL, NULL, "URL",                                    \
      "Base of the OpenAI-compatible API, up to and including /v1 (docs/llm.md lists "     \
      "OpenAI, Gemini, llama.cpp, Ollama and vLLM).")                                      \
    X(LLMModel, STRING, llm_model, NULL, NULL, "name", "Model name sent with every request.") \
    X(LLMApiKeyFile, SECRET_FILE, llm_api_key, NULL, NULL, "path",                         \
      "File whose first line is the API key (sent as a Bearer token); none for local "     \
      "servers.")                                                                          \
    X(LLMTimeout, POSITIVE, llm_timeout, "20000", NULL, "ms",                              \
      "Longest one model request may take; then it is retried while TurnDeadline allows.") \
    X(TurnDeadline, POSITIVE, turn_deadline, "30000", "1000..600000", "ms",                \
      "Every text is answered within this long of its turn's start: near it, the turn "     \
      "falls back to the rules planner.")                                                  \
    X(LLMDailyTokens, INT, llm_daily_tokens, "200000", NULL, "tokens",                     \
      "Model tokens one person may use per UTC day (0 = no cap); past it their turns use "  \
      "the rules planner and they are told once that day.")                                 \
    X(LLMMaxTokens, POSITIVE, llm_max_tokens, "400", "16..100000", "tokens",               \
      "max_tokens of each request: replies are SMS-sized.")                                \
    X(LLMMaxTokensField, ENUM, llm_max_tokens_field, "max_tokens", "max_tokens|max_completion_tokens", \
      "name", "The field LLMMaxTokens is sent as: OpenAI's reasoning models (o-series, "    \
      "gpt-5) refuse max_tokens and want max_completion_tokens.")                          \
    X(LLMTemperature, STRING, llm_temperature, "0.2", NULL, "0..2 | default",              \
      "Sampling temperature sent with each request; default sends none (reasoning models " \
      "accept only their own).")                                                           \
    X(MaxSteps, POSITIVE, max_steps, "6", "1..50", "n",                                    \
      "Planner decisions one turn may take; then it stops and says so.")                  \
    X(ContextTokens, POSITIVE, context_tokens, "3000", "200..1000000", "tokens",           \
      "Budget of what a planner is shown (instructions, tools, the person, memories, "     \
      "recent texts), counted as 4 bytes a token; recent texts, then the least relevant "  \
      "memories, are cut first.")                                                          \
    X(ConfirmTTL, POSITIVE, confirm_ttl, "600", "10..86400", "seconds",                    \
      "How long an action waiting for the person's YES stays valid.")                      \
    X(MissedPolicy, ENUM, missed_policy, "fire", "fire|skip", "policy",                    \
      "Reminders that came due more than a minute ago, while no scheduler ran (downtime): " \
      "fire = send them, saying how late (\"Reminder (late, was due 9:00 AM): ...\"); "    \
      "skip = send nothing and move each on to its next occurrence. Either way a series "  \
      "fires at most once for everything it missed.")

#endif
