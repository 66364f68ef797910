# make install: binaries, the production config and handlers, docs, man pages and the systemd unit.
#   make install [PREFIX=/usr/local] [DESTDIR=]    (uninstall: the same variables)
# The config lives in $(DESTDIR)/etc/pmilter whatever PREFIX says. An existing
# pmilter.conf or handler is never overwritten: the new one goes beside it as FILE.dist.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    := $(PREFIX)/sbin
BINDIR     := $(PREFIX)/bin
DOCDIR     := $(PREFIX)/share/doc/pmilter
MANDIR     := $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CONFDIR    := /etc/pmilter
INSTALL    ?= install
DEPLOY_HANDLERS := $(wildcard deploy/handler/*.rb)
DEPLOY_DOCS     := README.md $(wildcard docs/*.md)

.PHONY: install uninstall
install: $(BIN) pmilter-client
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(CONFDIR)/handler
	$(INSTALL) -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/pmilter
	$(INSTALL) -m 0755 pmilter-client $(DESTDIR)$(BINDIR)/pmilter-client
	@set -e; for f in deploy/pmilter.conf $(DEPLOY_HANDLERS); do \
	    dst=$(DESTDIR)$(CONFDIR)/$${f#deploy/}; \
	    if [ -e "$$dst" ] && ! cmp -s "$$f" "$$dst"; then \
	        echo "$$dst exists; installing the new one as $$dst.dist"; dst=$$dst.dist; fi; \
	    $(INSTALL) -m 0644 "$$f" "$$dst"; done
	$(INSTALL) -m 0644 $(DEPLOY_DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -D -m 0644 man/pmilter.8 $(DESTDIR)$(MANDIR)/man8/pmilter.8
	$(INSTALL) -D -m 0644 man/pmilter.conf.5 $(DESTDIR)$(MANDIR)/man5/pmilter.conf.5
	sed -e 's#@SBINDIR@#$(SBINDIR)#g' -e 's#@DOCDIR@#$(DOCDIR)#g' deploy/pmilter.service \
	    >$(DESTDIR)$(UNITDIR)/pmilter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pmilter.service

# Leaves /etc/pmilter alone: it may hold edited files.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pmilter $(DESTDIR)$(BINDIR)/pmilter-client \
	    $(DESTDIR)$(UNITDIR)/pmilter.service $(DESTDIR)$(MANDIR)/man8/pmilter.8 $(DESTDIR)$(MANDIR)/man5/pmilter.conf.5
	rm -rf $(DESTDIR)$(DOCDIR)
