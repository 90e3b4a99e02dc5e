// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny JSON reader for tests (json.h): a recursive descent over the
 * text that stores each scalar as a (dotted path, text) pair in a fixed
 * table.  Strict enough to reject what real parsers reject (control
 * characters in strings, leading zeros, trailing garbage).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct jent {
	char path[96];
	char val[128];
};

static struct jent jents[4096];
static int njents;
static const char *jp;

static void jws(void)
{
	while (*jp == ' ' || *jp == '\n' || *jp == '\t' || *jp == '\r')
		jp++;
}

static int jescape(char *c)
{
	jp++;
	if (*jp == 'u') {
		if (strspn(jp + 1, "0123456789abcdefABCDEF") < 4)
			return -1;
		jp += 4;
		*c = '?';
		return 0;
	}
	if (!*jp || !strchr("\"\\/bfnrt", *jp))
		return -1;
	*c = *jp == 'n' ? '\n' : *jp == 't' ? '\t' : *jp;
	return 0;
}

static int jstring(char *out, size_t len)
{
	size_t n = 0;

	if (*jp != '"')
		return -1;
	for (jp++; *jp && *jp != '"'; jp++) {
		char c = *jp;

		if ((unsigned char)c < 0x20)
			return -1;
		if (c == '\\' && jescape(&c))
			return -1;
		if (n + 1 < len)
			out[n++] = c;
	}
	if (*jp != '"')
		return -1;
	jp++;
	out[n] = '\0';
	return 0;
}

static int jadd(const char *path, const char *val, size_t n)
{
	struct jent *e;

	if (njents == (int)(sizeof(jents) / sizeof(jents[0])))
		return -1;
	e = &jents[njents++];
	snprintf(e->path, sizeof(e->path), "%s", path);
	if (n >= sizeof(e->val))
		n = sizeof(e->val) - 1;
	memcpy(e->val, val, n);
	e->val[n] = '\0';
	return 0;
}

static int jvalue(const char *path);

static int jobject(const char *path)
{
	char sub[96], key[64];

	jp++;
	jws();
	if (*jp == '}') {
		jp++;
		return jadd(path, "{}", 2);
	}
	for (;;) {
		jws();
		if (jstring(key, sizeof(key)))
			return -1;
		jws();
		if (*jp++ != ':')
			return -1;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		if (jvalue(sub))
			return -1;
		jws();
		if (*jp != ',')
			break;
		jp++;
	}
	return *jp++ == '}' ? 0 : -1;
}

static int jarray(const char *path)
{
	char sub[96], num[16];
	int i;

	jp++;
	jws();
	snprintf(sub, sizeof(sub), "%s.#", path);
	if (*jp == ']') {
		jp++;
		return jadd(sub, "0", 1);
	}
	for (i = 0;; i++) {
		snprintf(sub, sizeof(sub), "%s.%d", path, i);
		if (jvalue(sub))
			return -1;
		jws();
		if (*jp != ',')
			break;
		jp++;
	}
	if (*jp++ != ']')
		return -1;
	snprintf(sub, sizeof(sub), "%s.#", path);
	snprintf(num, sizeof(num), "%d", i + 1);
	return jadd(sub, num, strlen(num));
}

static int jnumber(const char *path)
{
	const char *s = jp;

	if (*jp == '-')
		jp++;
	if (*jp < '0' || *jp > '9')
		return -1;
	if (*jp == '0' && jp[1] >= '0' && jp[1] <= '9')
		return -1;
	while (*jp >= '0' && *jp <= '9')
		jp++;
	if (*jp == '.') {
		if (*++jp < '0' || *jp > '9')
			return -1;
		while (*jp >= '0' && *jp <= '9')
			jp++;
	}
	return jadd(path, s, jp - s);
}

static int jvalue(const char *path)
{
	static const char *const words[] = { "null", "true", "false" };
	char str[128];
	unsigned int i;

	jws();
	if (*jp == '{')
		return jobject(path);
	if (*jp == '[')
		return jarray(path);
	if (*jp == '"')
		return jstring(str, sizeof(str)) ? -1 : jadd(path, str, strlen(str));
	for (i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if (!strncmp(jp, words[i], n)) {
			jp += n;
			return jadd(path, words[i], n);
		}
	}
	return jnumber(path);
}

int json_parse(const char *text)
{
	njents = 0;
	jp = text;
	if (jvalue(""))
		return -1;
	jws();
	return *jp ? -1 : 0;
}

const char *json_stop(void)
{
	return jp;
}

int json_count(void)
{
	return njents;
}

static const char *json_vget(const char *fmt, va_list ap)
{
	char path[96];
	int i;

	vsnprintf(path, sizeof(path), fmt, ap);
	for (i = 0; i < njents; i++)
		if (!strcmp(jents[i].path, path))
			return jents[i].val;
	return NULL;
}

const char *json_get(const char *fmt, ...)
{
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	v = json_vget(fmt, ap);
	va_end(ap);
	return v;
}

unsigned long long json_num(const char *fmt, ...)
{
	const char *v;
	va_list ap;

	va_start(ap, fmt);
	v = json_vget(fmt, ap);
	va_end(ap);
	return v ? strtoull(v, NULL, 10) : ~0ULL;
}
