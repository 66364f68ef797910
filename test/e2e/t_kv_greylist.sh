# Greylisting behind Postfix (docs/kv.md's recipe as written, but a 1-second
# delay): the first attempt of a triplet gets 450 at RCPT, the retry after the
# delay is delivered. Sourced by run.sh while instance A runs.
t_kv_greylist() {
    python3 test/integration/docs_examples.py docs/kv.md "$T/kvdocs" >/dev/null || { why="docs/kv.md has no runnable examples"; return 1; }
    sed 's/^delay = 300 /delay = 1 /' "$(grep -l '^delay = 300 ' "$T"/kvdocs/*/handler.rb)" >"$FX/greylist.rb"
    pm_up "$(pm_conf greylist "$SOCK" envrcpt=greylist.rb)" || return 1
    send --from alice@example.com --to grey@example.org
    must "expected 450 for the first attempt, got '$(pf_reply "$T/swaks.out" "RCPT TO:<grey@")'" \
        reply_is 450 "RCPT TO:<grey@" || return 1
    must "Postfix log names the greylisting" \
        pf_log --wait 'milter-reject: RCPT from .*450 4\.7\.1 greylisted' >/dev/null || return 1
    must "the first attempt was delivered" nothing_delivered || return 1
    sleep 1.2
    send_ok 1 --from alice@example.com --to grey@example.org
}
run_test kv-greylist t_kv_greylist
pm_stop kv-greylist
