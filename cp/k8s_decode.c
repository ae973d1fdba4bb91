/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API server's JSON into jansson values, through yajl's event parser.
 *
 * jansson's own parser reads a byte at a time through a stream callback: ~12 ns a byte of an
 * EndpointSlice (~125 us for a rich 10 KB one), most of the watch thread's time
 * (docs/benchmarks.md). yajl lexes the same bytes in ~14 us; the values are then made with
 * jansson's own constructors, the same tree json_loadb() makes, so everything after the
 * decoder is unchanged, but for what it leaves out: metadata.managedFields, and what an
 * informer's struct k8s_keep does not keep; and for the arrays it keeps packed (struct
 * k8s_pack: an EndpointSlice's endpoints), whose events go to their packer instead.
 *
 * What jansson's parser refuses, this refuses too. yajl's defaults refuse comments, a second
 * value and anything but white space after the value; the callbacks check UTF-8 (yajl's own
 * check lets overlong forms through, so it is off), NUL, number ranges and depth; scans
 * before the parse find the escaped surrogates and the white space yajl takes beyond JSON's.
 * The unit test k8s_decode_test compares the two on every recorded body and on each edge;
 * json_decode_fuzz on what libFuzzer makes.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include <strait/k8s_json.h>

struct frame {
	json_t *c; /* borrowed: the root or its parent holds it */
	/* The keys to keep of an object, or of each object in an array; NULL: all. */
	const struct k8s_keep *only;
	bool proj; /* inside a value filtered by struct k8s_keep: no anchor applies */
	bool meta; /* an object that is the value of a "metadata" key */
};

struct dec {
	yajl_handle h;
	json_t *root;
	size_t end; /* where the root value ends: the bytes yajl had taken when it closed */
	unsigned int depth;
	unsigned int flags;
	const struct k8s_keep *anchors;	  /* k8s_json_decode()'s keep */
	const struct k8s_keep *next_only; /* the filter of the value to come */
	char *key;			  /* the key of the value to come, NUL-terminated */
	size_t keycap;
	bool key_meta;	   /* that key is "metadata" */
	bool drop;	   /* the value to come is left out */
	unsigned int skip; /* > 0: inside a value left out, this many containers deep */
	const struct k8s_pack *next_pack; /* the packer of the value to come, if an array */
	const struct k8s_pack *pack;	  /* packing an array: its packer */
	unsigned int pdepth; /* > 0: inside the packed array, this many containers deep */
	struct k8s_pack_state ps;
	char num[64];
	const char *why;		     /* set when a callback stops the parse */
	struct frame fr[K8S_JSON_DEPTH_MAX]; /* last: not zeroed */
};

/* Whether the value (+1 a container's start, -1 its end, 0 a scalar) is inside one left out,
 * or is the one left out. */
static bool skipped(struct dec *d, int open)
{
	if (d->skip) {
		d->skip += open;
		return true;
	}
	if (d->drop) {
		d->drop = false;
		d->skip = open > 0;
		return true;
	}
	return false;
}

int k8s_pack_put(struct k8s_pack_state *st, const void *s, size_t len)
{
	if (st->len + len > st->cap) {
		size_t cap = st->cap ? st->cap : 512;
		char *b;

		while (cap < st->len + len)
			cap *= 2;
		if (!(b = realloc(st->buf, cap)))
			return -ENOMEM;
		st->buf = b;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, s, len);
	st->len += len;
	return 0;
}

static int put(struct dec *d, json_t *v, bool container);

/* Inside a packed array: give the event to its packer, and keep the depth (a container as deep
 * as a tree's would be refused). When the array ends, its packed string is placed as its value
 * would have been. @return 1 to go on, 0 to stop (d->why set). */
static int pack_event(struct dec *d, enum k8s_pack_event ev, const char *s, size_t len)
{
	const bool open = ev == K8S_PACK_START_MAP || ev == K8S_PACK_START_ARRAY;
	json_t *v;

	if (ev == K8S_PACK_END && --d->pdepth == 0) {
		v = json_stringn_nocheck(d->ps.buf, d->ps.len);
		d->pack = NULL;
		return put(d, v, false);
	}
	if (open && d->depth + d->pdepth == K8S_JSON_DEPTH_MAX) {
		d->why = "maximum parsing depth reached";
		return 0;
	}
	if (d->pack->event(&d->ps, ev, d->pdepth, s, len) < 0) {
		d->why = "out of memory";
		return 0;
	}
	d->pdepth += open;
	return 1;
}

/* Whether an array that starts now is a value to pack (its key's keep has a packer; every value
 * of an object follows its key, which set or cleared d->next_pack): if so, packing starts.
 * @return 1 when it started, 0 when not, -1 on no memory. */
static int pack_start(struct dec *d)
{
	const struct k8s_pack *p = d->next_pack;

	d->next_pack = NULL;
	if (!p || d->skip || d->drop || d->depth == 0 || !json_is_object(d->fr[d->depth - 1].c))
		return 0;
	if (d->depth == K8S_JSON_DEPTH_MAX)
		return 0; // refused by put(), as a tree's would be
	d->ps.len = 0;
	memset(&d->ps.priv, 0, sizeof(d->ps.priv));
	if (k8s_pack_put(&d->ps, (const char[]){K8S_PACKED_MARK}, 1) < 0) {
		d->why = "out of memory";
		return -1;
	}
	d->pack = p;
	d->pdepth = 1;
	return 1;
}

/* Place @p v (a new reference, taken) in the container being built, or as the root. */
static int put(struct dec *d, json_t *v, bool container)
{
	const struct k8s_keep *only = NULL;
	bool meta = false, proj = false;

	if (!v) {
		d->why = "out of memory";
		return 0;
	}
	if (d->depth == 0) {
		if (!container) {
			json_decref(v);
			d->why = "'[' or '{' expected";
			return 0;
		}
		d->root = v;
	} else {
		const struct frame *f = &d->fr[d->depth - 1];

		if (json_is_array(f->c) ? json_array_append_new(f->c, v)
					: json_object_set_new_nocheck(f->c, d->key, v)) {
			d->why = "out of memory";
			return 0;
		}
		if (json_is_array(f->c)) {
			only = f->only; // each element as the array
			proj = f->proj;
		} else {
			only = d->next_only;
			proj = f->proj || only;
			meta = d->key_meta;
		}
	}
	if (!container)
		return 1;
	if (d->depth == K8S_JSON_DEPTH_MAX) {
		d->why = "maximum parsing depth reached";
		return 0;
	}
	d->fr[d->depth++] = (struct frame){
		.c = v, .only = only, .proj = proj, .meta = meta && json_is_object(v)};
	return 1;
}

static int on_null(void *ctx)
{
	struct dec *d = ctx;

	if (d->pack)
		return pack_event(d, K8S_PACK_OTHER, NULL, 0);
	return skipped(d, 0) || put(d, json_null(), false);
}

static int on_boolean(void *ctx, int b)
{
	struct dec *d = ctx;

	if (d->pack)
		return pack_event(d, b ? K8S_PACK_TRUE : K8S_PACK_OTHER, NULL, 0);
	return skipped(d, 0) || put(d, json_boolean(b), false);
}

/* A number as jansson's lexer takes it: an integer (no fraction, no exponent) into a
 * json_int_t, refused beyond its range; any other as a double, refused when it overflows.
 * Checked as well in a value left out (as are strings and keys), so that the flag changes
 * what is built and never what is taken. */
static int on_number(void *ctx, const char *s, size_t len)
{
	struct dec *d = ctx;
	char *text = d->num;
	bool real = memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len);
	json_t *v;

	if (len >= sizeof(d->num) && !(text = malloc(len + 1))) {
		d->why = "out of memory";
		return 0;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	if (real) {
		double r = strtod(text, NULL);

		v = errno == ERANGE && fabs(r) == HUGE_VAL ? NULL : json_real(r);
		d->why = v ? NULL : "real number overflow";
	} else {
		json_int_t i = strtoll(text, NULL, 10);

		v = errno == ERANGE ? NULL : json_integer(i);
		d->why = v ? NULL : "too big integer";
	}
	if (text != d->num)
		free(text);
	if (v && d->pack) {
		json_decref(v);
		return pack_event(d, K8S_PACK_OTHER, NULL, 0);
	}
	if (v && skipped(d, 0)) {
		json_decref(v);
		return 1;
	}
	return v ? put(d, v, false) : 0;
}

/* Whether @p s is UTF-8 as RFC 3629 section 4 has it (no overlong form, no surrogate, none
 * above U+10FFFF) and holds no NUL: what jansson's decoder takes. yajl's own check lets
 * overlong forms through, so it is off and this one runs instead, once per string or key. */
static bool text_ok(const unsigned char *s, size_t len)
{
	const unsigned char *end = s + len;

	while (s < end) {
		unsigned int c = *s++, n, cp;

		if (c < 0x80) {
			if (c == 0)
				return false;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - s) < n)
			return false;
		for (unsigned int i = 0; i < n; i++, s++) {
			if ((*s & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*s & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

long k8s_hex(const char *s, unsigned int n)
{
	long v = 0;

	for (unsigned int i = 0; i < n; i++) {
		int c = s[i], x = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10
							 : -1;
		if (x < 0)
			return -1;
		v = v << 4 | x;
	}
	return v;
}

/* Where in @p s (@p len bytes) an escaped surrogate is not a high one followed by a low one
 * (RFC 8259 section 7), which jansson refuses; -1 when none is. yajl decodes a lone high one
 * as '?', or with whatever escape follows it as if that were the low one. Backslashes only
 * begin escapes in JSON (a text with one elsewhere is refused anyway): no string context. */
static long unpaired_surrogate(const char *s, size_t len)
{
	const char *end = s + len, *p = s;

	while ((p = memchr(p, '\\', (size_t)(end - p))) && end - p >= 6) {
		int u = p[1] == 'u' ? (int)k8s_hex(p + 2, 4) : -1;

		if (u >= 0xdc00 && u <= 0xdfff)
			return p - s;
		if (u >= 0xd800 && u <= 0xdbff) {
			int lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u'
					 ? (int)k8s_hex(p + 8, 4)
					 : -1;

			if (lo < 0xdc00 || lo > 0xdfff)
				return p - s;
			p += 12;
		} else {
			p += 2; // the escaped character: "\\" is one escape
		}
	}
	return -1;
}

/* Where in @p s (@p len bytes) the first form feed or vertical tab is; -1 when there is none.
 * yajl takes both as white space; RFC 8259 section 2 and jansson do not, and a string may not
 * hold them unescaped. */
static long not_white(const char *s, size_t len)
{
	const char *ff = memchr(s, '\f', len), *vt = memchr(s, '\v', len);

	if (ff && (!vt || ff < vt))
		return ff - s;
	return vt ? vt - s : -1;
}

/* How many of the @p len bytes at @p s are JSON's white space (RFC 8259 section 2). */
static size_t strspn_n(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct dec *d = ctx;

	if (!text_ok(s, len)) {
		d->why = memchr(s, '\0', len) ? "a string holds a NUL (\\u0000)"
					      : "a string is not UTF-8";
		return 0;
	}
	if (d->pack)
		return pack_event(d, K8S_PACK_STRING, (const char *)s, len);
	if (skipped(d, 0))
		return 1;
	return put(d, json_stringn_nocheck((const char *)s, len), false);
}

static int on_start_map(void *ctx)
{
	struct dec *d = ctx;

	if (d->pack)
		return pack_event(d, K8S_PACK_START_MAP, NULL, 0);
	return skipped(d, 1) || put(d, json_object(), true);
}

/* The entry of @p keep for the key @p s (@p len bytes), or NULL. */
static const struct k8s_keep *keep_find(const struct k8s_keep *keep, const unsigned char *s,
					size_t len)
{
	for (; keep->key; keep++)
		if (strncmp(keep->key, (const char *)s, len) == 0 && keep->key[len] == '\0')
			return keep;
	return NULL;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct dec *d = ctx;
	const struct frame *f = &d->fr[d->depth - 1];

	if (!text_ok(s, len)) {
		d->why =
			memchr(s, '\0', len) ? "a key holds a NUL (\\u0000)" : "a key is not UTF-8";
		return 0;
	}
	if (d->pack)
		return pack_event(d, K8S_PACK_KEY, (const char *)s, len);
	if (d->skip)
		return 1;
	if (len + 1 > d->keycap) {
		size_t cap = d->keycap ? d->keycap : 256;
		char *k;

		while (cap < len + 1)
			cap *= 2;
		if (!(k = realloc(d->key, cap))) {
			d->why = "out of memory";
			return 0;
		}
		d->key = k;
		d->keycap = cap;
	}
	memcpy(d->key, s, len);
	d->key[len] = '\0';
	d->key_meta = len == 8 && memcmp(s, "metadata", 8) == 0;
	d->drop = (d->flags & K8S_DECODE_NO_MANAGED_FIELDS) && f->meta && len == 13 &&
		  memcmp(s, "managedFields", 13) == 0;
	d->next_only = NULL;
	d->next_pack = NULL;
	if (f->only) {
		const struct k8s_keep *k = keep_find(f->only, s, len);

		if (k) {
			d->next_only = k->only;
			d->next_pack = k->pack;
		} else {
			d->drop = true;
		}
	} else if (d->anchors && !f->proj) {
		const struct k8s_keep *k = keep_find(d->anchors, s, len);

		d->next_only = k ? k->only : NULL;
		d->next_pack = k ? k->pack : NULL;
	}
	return 1;
}

static int on_end(void *ctx)
{
	struct dec *d = ctx;

	if (d->pack)
		return pack_event(d, K8S_PACK_END, NULL, 0);
	if (!skipped(d, -1) && --d->depth == 0)
		d->end = yajl_get_bytes_consumed(d->h);
	return 1;
}

static int on_start_array(void *ctx)
{
	struct dec *d = ctx;
	int rc;

	if (d->pack)
		return pack_event(d, K8S_PACK_START_ARRAY, NULL, 0);
	if ((rc = pack_start(d)) != 0)
		return rc > 0;
	return skipped(d, 1) || put(d, json_array(), true);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number, // given, it takes every number (yajl_integer, yajl_double unused)
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

json_t *k8s_json_decode(const char *buf, size_t len, unsigned int flags,
			const struct k8s_keep *keep, char *err, size_t errlen)
{
	struct dec *d = malloc(sizeof(*d));
	yajl_handle h = NULL;
	yajl_status st = yajl_status_error;
	json_t *root = NULL;
	long bad = -1;

	if (d) {
		memset(d, 0, offsetof(struct dec, fr));
		h = d->h = yajl_alloc(&callbacks, NULL, d);
	}
	if (h && (bad = not_white(buf, len)) >= 0) {
		d->why = "a form feed or vertical tab (not JSON's white space)";
		st = yajl_status_client_canceled;
	} else if (h && (bad = unpaired_surrogate(buf, len)) >= 0) {
		d->why = "an escaped surrogate is not paired";
		st = yajl_status_client_canceled;
	} else if (h) {
		// yajl's defaults are JSON as RFC 8259 has it and jansson takes it: no
		// comments, one value, nothing after it but white space.
		d->flags = flags;
		d->anchors = keep;
		yajl_config(h, yajl_dont_validate_strings, 1); // text_ok() does
		st = yajl_parse(h, (const unsigned char *)buf, len);
		if (st == yajl_status_ok)
			st = yajl_complete_parse(h);
		// yajl takes a token it has not seen the end of, after the value, as complete
		// ("[1] \"x"): what follows the value is checked here.
		if (st == yajl_status_ok && d->root &&
		    (bad = (long)d->end + (long)strspn_n(buf + d->end, len - d->end)) < (long)len) {
			d->why = "end of file expected";
			st = yajl_status_client_canceled;
		} else {
			bad = -1;
		}
	}
	if (st == yajl_status_ok && d->root) {
		root = d->root;
	} else {
		if (err && errlen) {
			unsigned char *msg = NULL;

			if (!h)
				snprintf(err, errlen, "out of memory");
			else if (st == yajl_status_client_canceled)
				snprintf(err, errlen, "%s near byte %zu", d->why,
					 bad >= 0 ? (size_t)bad : yajl_get_bytes_consumed(h));
			else if ((msg = yajl_get_error(h, 0, (const unsigned char *)buf, len)))
				snprintf(err, errlen, "%.*s", (int)strcspn((char *)msg, "\n"),
					 (char *)msg);
			else
				snprintf(err, errlen, "not a JSON object or array");
			if (msg)
				yajl_free_error(h, msg);
		}
		json_decref(d ? d->root : NULL);
	}
	if (h)
		yajl_free(h);
	if (d) {
		free(d->key);
		free(d->ps.buf);
	}
	free(d);
	return root;
}
