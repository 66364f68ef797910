-- Helpers for the miltertest scripts: an MTA that, like Postfix, skips the
-- steps the milter negotiated away (SMFIP_NO*), and assertions that name
-- what failed. Globals from run.sh: sock (socket spec).

function connect()
  local conn = mt.connect(sock, 100, 0.05)
  if conn == nil then error("cannot connect to " .. sock) end
  return conn
end

-- Runs fn(conn, ...) unless the milter negotiated `option` away; returns the
-- milter's reply, or "skipped".
function step(conn, option, fn, ...)
  if option ~= nil and mt.test_option(conn, option) then return "skipped" end
  local err = fn(conn, ...)
  if err ~= nil then error("miltertest: " .. tostring(err)) end
  return mt.getreply(conn)
end

local names = {}
names[SMFIR_CONTINUE] = "continue"; names[SMFIR_ACCEPT] = "accept"; names[SMFIR_REJECT] = "reject"
names[SMFIR_TEMPFAIL] = "tempfail"; names[SMFIR_DISCARD] = "discard"; names[SMFIR_REPLYCODE] = "replycode"
if SMFIR_SKIP then names[SMFIR_SKIP] = "skip" end
function reply_name(r) return names[r] or tostring(r) end

function expect_reply(what, got, want)
  if got ~= want then
    error(what .. ": milter replied " .. reply_name(got) .. ", expected " .. reply_name(want))
  end
end

function expect(what, cond)
  if not cond then error(what) end
end

-- One whole SMTP session with one message; opts override the defaults.
-- Returns the connection (still open) and the reply of every step.
function message(opts)
  opts = opts or {}
  local conn = opts.conn or connect()
  local r = {}
  if not opts.conn then
    mt.macro(conn, SMFIC_CONNECT, "j", opts.myhostname or "mx.example.com", "{daemon_name}", "smtpd")
    r.connect = step(conn, SMFIP_NOCONNECT, mt.conninfo, opts.client_host or "localhost", opts.client_ip or "127.0.0.1")
    r.helo = step(conn, SMFIP_NOHELO, mt.helo, opts.helo or "client.example.net")
  end
  mt.macro(conn, SMFIC_MAIL, "i", opts.queue_id or "4XyZ1", "{mail_addr}", opts.mail_addr or "from@example.com")
  r.envfrom = "skipped"  -- unless sent here: opts.skip_mail means the caller sent MAIL FROM
  if not opts.skip_mail then
    r.envfrom = step(conn, SMFIP_NOMAIL, mt.mailfrom, opts.from or "<from@example.com>")
  end
  if r.envfrom ~= SMFIR_CONTINUE and r.envfrom ~= "skipped" then return conn, r end
  mt.macro(conn, SMFIC_RCPT, "{rcpt_addr}", opts.rcpt_addr or "to@example.com")
  r.envrcpt = step(conn, SMFIP_NORCPT, mt.rcptto, opts.to or "<to@example.com>")
  if r.envrcpt ~= SMFIR_CONTINUE and r.envrcpt ~= "skipped" then return conn, r end
  local function stopped(reply) return reply ~= SMFIR_CONTINUE and reply ~= "skipped" end
  r.data = step(conn, SMFIP_NODATA, mt.data)
  if stopped(r.data) then return conn, r end
  for _, h in ipairs(opts.headers or {{"From", "Taro <taro@example.com>"}, {"Subject", "Hello"}}) do
    r.header = step(conn, SMFIP_NOHDRS, mt.header, h[1], h[2])
    if stopped(r.header) then return conn, r end
  end
  r.eoh = step(conn, SMFIP_NOEOH, mt.eoh)
  if stopped(r.eoh) then return conn, r end
  for _, chunk in ipairs(opts.body or {"Hello world!!\r\n"}) do
    r.body = step(conn, SMFIP_NOBODY, mt.bodystring, chunk)
    if r.body == SMFIR_SKIP then break end
    if stopped(r.body) then return conn, r end
  end
  r.eom = step(conn, nil, mt.eom)
  return conn, r
end
