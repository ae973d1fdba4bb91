/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI's JSON-to-text renderer: every command renders one JSON document, and the human
 * text is drawn from it here, so text and `--json` never disagree. An array of objects is an
 * aligned table (numbers right-aligned, headers with dashes), an object is `key: value`
 * lines with nested objects and tables indented under their key, an action's result is its
 * "message" sentence.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_priv.h"

/* One value as a table cell or after "key: ": "" and null are "-", booleans yes/no. */
static char *cli_cell(const json_t *v)
{
	char *s = NULL;
	int ret = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = strdup(json_string_length(v) ? json_string_value(v) : "-");
		break;
	case JSON_INTEGER:
		ret = asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		ret = asprintf(&s, "%.2f", json_real_value(v));
		break;
	case JSON_TRUE:
		s = strdup("yes");
		break;
	case JSON_FALSE:
		s = strdup("no");
		break;
	case JSON_NULL:
		s = strdup("-");
		break;
	case JSON_ARRAY: {
		size_t i, len = 0;
		json_t *e;
		FILE *f;

		if (json_array_size(v) == 0)
			return strdup("-");
		f = open_memstream(&s, &len);
		if (!f)
			return NULL;
		json_array_foreach(v, i, e) {
			char *c = cli_cell(e);
			fprintf(f, "%s%s", i ? "," : "", c ? c : "?");
			free(c);
		}
		fclose(f);
		break;
	}
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT);
		break;
	}
	if (ret < 0)
		s = NULL;
	return s;
}

static bool cli_is_table(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return false;
	return true;
}

/* Rows of objects as an aligned table: numbers right-aligned, no trailing blanks. */
static void cli_text_table(FILE *f, const json_t *rows, int indent)
{
	const char *cols[64];
	size_t width[64], ncols = 0, nrows = json_array_size(rows), i, c;
	bool right[64];
	char **cells = calloc(nrows * 64 + 1, sizeof(*cells));
	const char *k;
	json_t *row, *v;

	if (!cells)
		return;
	json_array_foreach(rows, i, row) {
		json_object_foreach(row, k, v) {
			for (c = 0; c < ncols && strcmp(cols[c], k) != 0; c++)
				;
			if (c == ncols && ncols < RTE_DIM(cols)) {
				cols[ncols] = k;
				width[ncols] = strlen(k);
				right[ncols] = true;
				ncols++;
			}
		}
	}
	json_array_foreach(rows, i, row) {
		for (c = 0; c < ncols; c++) {
			v = json_object_get(row, cols[c]);
			cells[i * 64 + c] = v ? cli_cell(v) : strdup("-");
			if (cells[i * 64 + c] && strlen(cells[i * 64 + c]) > width[c])
				width[c] = strlen(cells[i * 64 + c]);
			if (v && !json_is_number(v) && !json_is_null(v))
				right[c] = false;
		}
	}
	for (i = 0; i <= nrows; i++) {
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < ncols; c++) {
			char hdr[128];
			const char *s;
			size_t pad;

			if (i == 0) {
				// Headers read better with dashes: "rx-packets", as testpmd prints.
				snprintf(hdr, sizeof(hdr), "%s", cols[c]);
				for (char *p = hdr; *p; p++)
					if (*p == '_')
						*p = '-';
				s = hdr;
			} else {
				s = cells[(i - 1) * 64 + c] ? cells[(i - 1) * 64 + c] : "?";
			}
			pad = width[c] - strlen(s);
			if (c > 0)
				fputs("  ", f);
			if (right[c])
				fprintf(f, "%*s%s", (int)pad, "", s);
			else if (c + 1 < ncols)
				fprintf(f, "%s%*s", s, (int)pad, "");
			else
				fputs(s, f);
		}
		fputc('\n', f);
	}
	for (i = 0; i < nrows * 64; i++)
		free(cells[i]);
	free(cells);
}

static bool cli_nested(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) || cli_is_table(v);
}

static void cli_text_object(FILE *f, const json_t *o, int indent)
{
	size_t width = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (!cli_nested(v) && strlen(k) > width)
			width = strlen(k);
	json_object_foreach((json_t *)o, k, v) {
		if (json_is_object(v) && json_object_size(v) > 0) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			cli_text_object(f, v, indent + 2);
		} else if (cli_is_table(v)) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			cli_text_table(f, v, indent + 2);
		} else {
			bool none = json_is_object(v) || (json_is_array(v) && !json_array_size(v));
			char *c = none ? strdup("(none)") : cli_cell(v);
			fprintf(f, "%*s%s:%*s %s\n", indent, "", k, (int)(width - strlen(k)), "",
				c ? c : "?");
			free(c);
		}
	}
}

void cli_render_text(FILE *f, const json_t *doc)
{
	const json_t *msg = json_object_get(doc, "message");

	if (json_is_string(msg)) {
		// An action's result: the sentence is the text; the other fields are for scripts.
		fprintf(f, "%s\n", json_string_value(msg));
	} else if (cli_is_table(doc)) {
		cli_text_table(f, doc, 0);
	} else if (json_is_array(doc) && json_array_size(doc) == 0) {
		fputs("(none)\n", f);
	} else if (json_is_object(doc)) {
		cli_text_object(f, doc, 0);
	} else {
		char *c = cli_cell(doc);
		fprintf(f, "%s\n", c ? c : "?");
		free(c);
	}
}
