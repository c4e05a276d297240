/* A process tree's wall clock moved by CHIA_CLOCK_SKEW_S seconds (LD_PRELOAD).
 *
 * Only the wall clock is moved: clock_gettime(CLOCK_REALTIME[_COARSE]), gettimeofday and
 * time. Monotonic clocks, which Python 3.11 sleeps and waits on, are left alone: that is
 * what another machine whose clock is off looks like to a program. (Debian's libfaketime
 * 0.9.10 cannot do this under Python 3.11: with the monotonic clock excluded its
 * clock_nanosleep passes a negative time and time.sleep fails with EINVAL; with it faked,
 * sem_clockwait waits for the whole offset.)
 *
 * Built by chia.testing.clock_skew with the C compiler; used by the site-realism suite.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static long long skew_ns;

__attribute__((constructor)) static void chia_skew_init(void) {
    const char *value = getenv("CHIA_CLOCK_SKEW_S");
    skew_ns = value ? (long long)(strtod(value, NULL) * 1e9) : 0;
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
}

static void shift(struct timespec *ts) {
    long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + skew_ns;
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime) chia_skew_init();
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
