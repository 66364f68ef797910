# pmilter-client: the MTA side of the milter protocol (our own implementation; no libmilter),
# and refmilter, a small libmilter milter steered by argv that test/client/run.sh plays against.
# Objects and test binaries live under $(BUILD) so the asan tree never mixes with the default one;
# ./pmilter-client at the root is the default (unsanitized) build.
CLIENT_SRCS := $(wildcard client/*.c)
CLIENT_OBJS := $(CLIENT_SRCS:client/%.c=$(BUILD)/client/%.o)

$(BUILD)/pmilter-client: $(CLIENT_OBJS)
	$(CC) $(SAN) -o $@ $^ -lcurl -lm -lpthread

$(BUILD)/client/%.o: client/%.c $(wildcard client/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

ifeq ($(strip $(SAN)),)
all: pmilter-client
pmilter-client: $(BUILD)/pmilter-client
	cp $< $@
test-build:: pmilter-client
else
all: $(BUILD)/pmilter-client
endif

$(BUILD)/refmilter: test/client/refmilter.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lmilter -lpthread

test-build:: $(BUILD)/pmilter-client $(BUILD)/refmilter
