package config

// Example is a commented configuration file, written by `quotad init`: the
// built-in defaults spelled out, plus a RankRiot channel that needs groq,
// youtube and pexels, with a job left commented out.
const Example = `# quotad configuration.
#
# Every key is optional: a missing key keeps its built-in default, shown
# here. Durations are Go duration strings: 30s, 5m, 1h30m, and 1d = 24h.

# Default time zone of reset rules and job schedules (an IANA zone name).
# YouTube resets its quota at midnight Pacific time.
timezone: America/Los_Angeles

# Consecutive non-quota errors after which a channel is paused with reason
# "errors" (a person resumes it). 1 to 100000.
error_threshold: 20

# Interval of the full catch-up pass that applies resets missed while the
# daemon was down or the clock jumped. Resets themselves run on time, by
# timer. At least 1s.
safety_tick: 1h

# How often the daemon checks the store for changes made by other processes
# (the CLI, another daemon, sqlite3). 100ms to 1m.
poll_interval: 1s

# The store: a SQLite file path, or a postgres:// URL for several daemons
# sharing the same quotas. Empty lets the CLI choose (its --db flag or the
# default path).
db: ""

store:
  # Every wait for the store (a lock held by another process, a database
  # that is down) ends after this: the request then gets 503 with
  # Retry-After and changes nothing. 100ms to 1m.
  timeout: 5s

# What an acknowledged change survives, for a SQLite store. crash (default):
# a crash of quotad or of any process (WAL, synchronous=NORMAL); a power
# loss may lose the last changes. power: a power loss too (synchronous=FULL,
# an fsync per commit, fewer commits per second). A PostgreSQL store ignores
# it: its commits are as durable as the server's synchronous_commit.
durability: crash

server:
  # Address of the HTTP API, metrics and dashboard of "quotad serve".
  listen: 127.0.0.1:8080
  # Bearer token required for changes through the HTTP API. The
  # QUOTAD_TOKEN environment variable overrides it.
  token: ""
  # Host names requests may use besides localhost, loopback addresses and
  # the listen host (a reverse proxy's public name); others are refused, so
  # that a web page cannot reach quotad by rebinding its DNS name.
  # allowed_hosts: [quotad.internal]

runner:
  # How many channel jobs may run at the same time, over all channels.
  max_concurrent: 4

# Fractions of a window's limit whose crossing emits a "threshold" event
# (and notification). An empty list [] turns them off.
thresholds: [0.8, 0.95]

# Usage history: per-minute buckets per API and channel are kept this long,
# then rolled up into hourly buckets, which are kept for "hours". The
# exhaustion forecast reads the last day of minute buckets (minutes >= 24h).
usage:
  minutes: 48h
  hours: 400d

# Notifiers: where quotad sends word of what happened. Each one subscribes to
# event kinds (all of them when "events" is left out):
#   exhausted     an API ran out          reset     a window refilled
#   resumed       a channel auto-resumed  threshold a window passed 80%/95%
#   forecast      a window is projected to run out before its reset
#   errors_pause  a channel paused after consecutive errors
#   manual        a person paused or resumed a channel
# Messages are queued in the store and retried with backoff; a value written
# ${NAME} is read from the environment variable NAME.
# notifiers:
#   team-slack:
#     type: slack
#     url: ${SLACK_WEBHOOK_URL}        # an incoming-webhook URL
#     events: [exhausted, forecast, errors_pause]
#   pager:
#     type: webhook
#     url: https://hooks.example.com/quotad
#     secret: ${QUOTAD_WEBHOOK_SECRET} # signs bodies: X-Quotad-Signature: sha256=...
#   ops-mail:
#     type: email
#     host: smtp.example.com
#     port: 587                        # default 587 (STARTTLS); 465 = TLS from the start
#     username: quotad@example.com
#     password: ${SMTP_PASSWORD}
#     from: quotad@example.com
#     to: [ops@example.com]
#     starttls: true                   # refuse to send without STARTTLS (default)
#     timeout: 10s                     # per attempt, every type (default 10s)
#     max_attempts: 8                  # then the notification is "dead" (default 8)

# The APIs your pipelines call. When this mapping is present it replaces
# the built-in APIs entirely (these three, the seed's table).
#
# Reset rules ("reset"):
#   daily HH:MM [ZONE]            every day at a local time
#   weekly DAY HH:MM [ZONE]       DAY = mon..sun, e.g. weekly mon 09:00
#   monthly D HH:MM [ZONE]        D = 1..31 or last; past the month's end = its last day
#   every DURATION                aligned, no zone: "every 1h" resets on the hour
#   cron "EXPR" [ZONE]            five-field cron, e.g. cron "0 */6 * * *"
# ZONE is an IANA zone name (or PT, ET, CT, MT) and defaults to timezone.
#
# An API may instead name its provider ("quotad providers" lists them:
# youtube, groq, openai, pexels, pixabay, generic). The profile supplies the
# unit, keywords and windows left out, and "quotad serve" meters calls sent
# through http://LISTEN/proxy/API/... from the provider's own responses:
#   groq: {provider: groq}
#   youtube:
#     provider: youtube
#     costs: {"POST /thumbnails/set": 50}     # cost table overrides
#   stock:
#     provider: generic
#     upstream: https://api.example.com/v2    # where calls are forwarded
#     windows: [{name: requests, limit: 1000, reset: "every 1h"}]
apis:
  groq:
    unit: tokens               # what the limits count ("units" when absent)
    keywords: [groq, llama]    # words that attribute an error text to this API
    auto_resume: true          # resume channels paused for this API when it resets
    windows:
      - {name: daily, limit: 100000, reset: "daily 00:00"}
  youtube:
    unit: units
    keywords: [youtube, google]
    auto_resume: true
    windows:
      - {name: daily, limit: 10000, reset: "daily 00:00"}
  pexels:
    unit: requests
    keywords: [pexels]
    auto_resume: true
    windows:                   # every window counts; the API is available when none is exhausted
      - {name: hourly, limit: 200, reset: "every 1h"}
      - {name: monthly, limit: 20000, reset: "monthly 1 00:00"}

# Channels: your pipelines. A channel is paused while an API it needs is
# exhausted and resumed when that API resets.
channels:
  RankRiot:
    apis: [groq, youtube, pexels]  # the APIs this channel needs
    priority: normal               # low, normal or high
    # An optional job that quotad runs for the channel while it is active.
    # job:
    #   command: ["python3", "make_video.py"]  # a list (argv), or a string run with sh -c
    #   dir: /srv/rankriot                     # working directory
    #   env: {PYTHONUNBUFFERED: "1"}           # extra environment variables
    #   schedule: "every 6h"                   # reset-rule syntax; zone defaults to timezone
    #   timeout: 30m                           # default 1h
    #   estimate: {groq: 8000, youtube: 1600}  # expected units per run, per API the channel needs
`
