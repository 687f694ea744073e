// SPDX-License-Identifier: GPL-2.0-only
/*
 * lexer.c - scenario files read into (section, key, value, origin) entries.
 *
 * Hand-written rather than Debian's libinih (checked: libinih 55): its
 * packaged build gives the handler no line number (INI_HANDLER_LINENO is a
 * compile-time option, off in Debian), reports a repeated section as the
 * same name with no boundary (so two steps both called [free] merge), and
 * has no `include`.  Our errors must name file, line and key, and the
 * timeline is the order of sections, so the ~150 lines below are simpler
 * than working around those.
 *
 * Two phases: lex every file into (section, key, value, origin) entries,
 * then resolve them into struct plan, where units, percentages, `scale`,
 * tolerances and command-line overrides are applied and every key is
 * checked.  Nothing is booted until this returns 0.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan_int.h"


int plan_error(char *err, size_t len, const struct origin *o,
		const char *sec, const char *key, const char *fmt, ...)
{
	char msg[800];	/* the list of expectation names fits */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o && o->line)
		snprintf(err, len, "%s:%d: ", o->file, o->line);
	else if (o)
		snprintf(err, len, "command line: ");
	else
		err[0] = 0;
	size_t n = strlen(err);
	if (sec && key)
		snprintf(err + n, len - n, "[%s] %s: %s", sec, key, msg);
	else if (key)
		snprintf(err + n, len - n, "%s: %s", key, msg);
	else
		snprintf(err + n, len - n, "%s", msg);
	return -1;
}

char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int add_section(struct lexer *lx, const char *name,
		       const struct origin *o)
{
	if (lx->nsecs == MAX_SECTIONS)
		return plan_error(lx->err, lx->errlen, o, NULL, NULL,
			    "too many sections (at most %d steps)",
			    PLAN_MAX_STEPS);
	struct section *s = &lx->secs[lx->nsecs++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->from = *o;
	return 0;
}

/* Open a scenario file for reading: a regular file of bounded size only
 * (a FIFO or a device would block or never end). */
static FILE *open_scenario(const char *path, const char **why)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	*why = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		*why = "not a regular file";
	} else if (sb.st_size > MAX_FILE_BYTES) {
		*why = "larger than 1 MiB";
	} else {
		FILE *f;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		if ((f = fdopen(fd, "r")))
			return f;
	}
	close(fd);
	return NULL;
}

/*
 * Is @inc (the include @val, made relative to the including file) outside
 * the top file's folder tree?  NULL when it is inside (or does not exist:
 * opening it then says so), else why.  The path is resolved, so neither
 * `..` nor a symbolic link leads out, and a line of a file elsewhere never
 * reaches an error message.
 */
static const char *include_outside(const struct lexer *lx, const char *inc,
				   const char *val)
{
	char real[PATH_MAX];
	size_t n = strlen(lx->root);

	if (val[0] == '/')
		return "is an absolute path";
	if (!realpath(inc, real))
		return errno == ENOENT || errno == ENOTDIR ? NULL :
		       "cannot be resolved";
	if (!n || strncmp(real, lx->root, n) ||
	    (real[n] && real[n] != '/' && strcmp(lx->root, "/")))
		return strstr(val, "..") ? "leads out with '..'" :
		       "leads out through a symbolic link";
	return NULL;
}

int lex_file(struct lexer *lx, const char *path, int depth,
		    const struct origin *incl_from)
{
	const char *why;
	FILE *f;
	char line[1024];
	struct origin o = { .line = 0 };
	long bytes = 0;

	if (!incl_from) {
		/* The top file: its folder is the tree includes stay in. */
		const char *slash = strrchr(path, '/');
		char dir[PLAN_STR];
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path +
			 (slash == path)) : 1, slash ? path : ".");
		snprintf(lx->root_shown, sizeof(lx->root_shown), "%s", dir);
		if (!realpath(dir, lx->root))
			lx->root[0] = '\0';	/* then the open fails too */
	}
	if (++lx->nfiles > MAX_FILES)
		return plan_error(lx->err, lx->errlen, incl_from, NULL, "include",
			    "more than %d files included in all",
			    MAX_FILES);
	f = open_scenario(path, &why);
	if (!f) {
		if (!why)
			why = strerror(errno);
		if (incl_from)
			return plan_error(lx->err, lx->errlen, incl_from, NULL,
				    "include", "cannot open '%s': %s", path,
				    why);
		snprintf(lx->err, lx->errlen, "%s: cannot open: %s", path,
			 why);
		return -1;
	}
	snprintf(o.file, sizeof(o.file), "%s", path);
	char *raw = NULL;
	size_t rawcap = 0;
	ssize_t len;
	/* getline: its allocation is bounded by the file size checked
	 * above, and it sees NUL bytes that fgets would hide. */
	while ((len = getline(&raw, &rawcap, f)) > 0) {
		o.line++;
		bytes += len;
		if (raw[len - 1] == '\n')
			raw[--len] = 0;
		const char *why_bad = NULL;
		if (len > (ssize_t)sizeof(line) - 2)
			why_bad = "line longer than 1022 characters";
		else if (bytes > MAX_FILE_BYTES)	/* grew since fstat */
			why_bad = "file larger than 1 MiB";
		else if (memchr(raw, 0, (size_t)len))
			why_bad = "NUL byte in the line (not a text file?)";
		if (why_bad) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, NULL, "%s",
				    why_bad);
		}
		memcpy(line, raw, (size_t)len + 1);
		/* Comments: whole lines, or '#'/';' after white space. */
		for (char *p = line; *p; p++) {
			if ((*p == '#' || *p == ';') &&
			    (p == line || isspace((unsigned char)p[-1]))) {
				*p = 0;
				break;
			}
		}
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1]) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    NULL, "expected '[section]'");
			}
			*e = 0;
			char *name = trim(s + 1);
			if (strlen(name) >= sizeof(lx->secs[0].name)) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    NULL, "section name longer than "
					    "%zu characters",
					    sizeof(lx->secs[0].name) - 1);
			}
			if (!name_ok(name)) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    NULL, "bad section name '%s' "
					    "(letters, digits, '_', '.', "
					    "'-')", name);
			}
			if (add_section(lx, name, &o)) {
				free(raw);
				fclose(f);
				return -1;
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, NULL,
				    "expected 'key = value', got '%s'", s);
		}
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		if (strlen(key) >= sizeof(lx->ents[0].key)) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, NULL,
				    "key longer than %zu characters",
				    sizeof(lx->ents[0].key) - 1);
		}
		if (!name_ok(key)) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, NULL,
				    "bad key '%s'", key);
		}
		if (!strcmp(key, "include")) {
			char inc[PLAN_STR];
			const char *slash = strrchr(path, '/');
			if (depth >= MAX_INCLUDE) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    "include", "nested more than %d "
					    "deep (an include loop?)",
					    MAX_INCLUDE);
			}
			if (lx->confine && (strchr(val, '/') || !*val ||
					    !strcmp(val, ".."))) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    "include", "expected a file name "
					    "beside this file, got '%s'", val);
			}
			/* Relative to the including file, as fio does. */
			int n;
			if (val[0] != '/' && slash)
				n = snprintf(inc, sizeof(inc), "%.*s/%s",
					     (int)(slash - path), path, val);
			else
				n = snprintf(inc, sizeof(inc), "%s", val);
			if (n < 0 || n >= (int)sizeof(inc)) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    "include", "path longer than %d "
					    "characters", PLAN_STR - 1);
			}
			const char *out = include_outside(lx, inc, val);
			if (out) {
				free(raw);
				fclose(f);
				return plan_error(lx->err, lx->errlen, &o, NULL,
					    "include", "'%s' %s: an included file "
					    "must be in the scenario's folder "
					    "'%s' or below it", val, out,
					    lx->root_shown);
			}
			if (lex_file(lx, inc, depth + 1, &o)) {
				free(raw);
				fclose(f);
				return -1;
			}
			continue;
		}
		if (lx->nsecs == 0) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, key,
				    "key outside any section (start with "
				    "[global])");
		}
		if (lx->nents == MAX_ENTRIES) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, key,
				    "too many keys");
		}
		if (strlen(val) >= PLAN_STR) {
			free(raw);
			fclose(f);
			return plan_error(lx->err, lx->errlen, &o, NULL, key,
				    "value longer than %d characters",
				    PLAN_STR - 1);
		}
		struct entry *en = &lx->ents[lx->nents++];
		en->sec = lx->nsecs - 1;
		snprintf(en->key, sizeof(en->key), "%s", key);
		snprintf(en->value, sizeof(en->value), "%s", val);
		en->from = o;
	}
	free(raw);
	fclose(f);
	return 0;
}

