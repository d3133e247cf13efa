/*
 * Redis 7.0's number rules that depend on libc: strtod (scores, float arguments) and
 * long double arithmetic and printing (INCRBYFLOAT, HINCRBYFLOAT).
 *
 * The Rust side (num/ffi.rs) owns every policy decision it can; this file only does what
 * Rust cannot: call strtod/strtold, add in 80-bit long double, and print with "%.17Lf".
 * Each function mirrors a named Redis 7.0 function (util.c) so the two can be compared.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

/* Redis's MAX_LONG_DOUBLE_CHARS (util.h): the buffer string2ld and ld2string use. */
#define COREKV_MAX_LONG_DOUBLE_CHARS (5 * 1024)

/*
 * strtod on a NUL-terminated string. Stores how many bytes were consumed and whether errno
 * was ERANGE; the caller decides what to accept (string2d and zslParseRange differ).
 */
double corekv_strtod(const char *nul_terminated, size_t *consumed, int *erange) {
    char *end;
    errno = 0;
    double value = strtod(nul_terminated, &end);
    *erange = errno == ERANGE;
    *consumed = (size_t)(end - nul_terminated);
    return value;
}

/* Redis 7.0 string2ld (util.c): 1 and *out set when `s` is a valid long double. */
static int string2ld(const char *s, size_t slen, long double *out) {
    char buf[COREKV_MAX_LONG_DOUBLE_CHARS];
    char *eptr;
    long double value;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    /* As Redis: only the first byte is checked for space (strtold would skip it), and the
     * whole input must be read, so an embedded NUL ("1\0x", "\0") is refused (checked
     * against redis-server 7.0.15: INCRBYFLOAT and HINCRBYFLOAT on such values fail). */
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || value == 0)) ||
        isnan(value))
        return 0;
    *out = value;
    return 1;
}

/* Redis 7.0 ld2string(..., LD_STR_HUMAN) for a finite value; returns the length, or 0 when
 * `cap` is too small (Redis's "err" path). */
static size_t ld2string_human(char *buf, size_t cap, long double value) {
    int printed = snprintf(buf, cap, "%.17Lf", value);
    if (printed < 0 || (size_t)printed + 1 > cap) return 0;
    size_t len = (size_t)printed;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + len - 1;
        while (*p == '0') {
            p--;
            len--;
        }
        if (*p == '.') len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return len;
}

/*
 * INCRBYFLOAT: current + increment in long double, printed as Redis stores the result.
 * Returns 0 on success (out/out_len set), 1 when `current` is not a float, 2 when
 * `increment` is not a float, 3 when the sum is NaN or infinite, 4 when `out` is too small.
 * INCRBYFLOAT validates `current` first, HINCRBYFLOAT the increment (`increment_first`).
 */
int corekv_incr_by_float(const char *current, size_t current_len, const char *increment,
                         size_t increment_len, int increment_first, char *out, size_t out_cap,
                         size_t *out_len) {
    long double value, incr;
    if (increment_first && !string2ld(increment, increment_len, &incr)) return 2;
    if (!string2ld(current, current_len, &value)) return 1;
    if (!increment_first && !string2ld(increment, increment_len, &incr)) return 2;
    value += incr;
    if (isnan(value) || isinf(value)) return 3;
    size_t len = ld2string_human(out, out_cap, value);
    if (len == 0) return 4;
    *out_len = len;
    return 0;
}

/* snprintf("%.17g"): the reference the Rust formatter is tested against. */
size_t corekv_format_g17(double value, char *out, size_t out_cap) {
    int printed = snprintf(out, out_cap, "%.17g", value);
    return printed < 0 ? 0 : (size_t)printed;
}
