package validate

import "regexp"

// The String formats of §3.9, with the original's expressions.
var (
	emailRE = regexp.MustCompile(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`)
	formats = map[string]*regexp.Regexp{
		"url":   regexp.MustCompile(`^(https?:\/\/)([\w-]+(\.[\w-]+)+)(:\d+)?(\/[\w\-.~:/?#[\]@!$&'()*+,;=%]*)?$`),
		"color": regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`),
		"slug":  regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`),
	}
)

// checkFormat checks s against a String field's format; an empty or
// unknown format accepts everything.
func checkFormat(format, name, s string) error {
	if format == "email" {
		if !emailRE.MatchString(s) {
			return fieldErr(name, "must be a valid email (e.g., user@example.com).")
		}
		return nil
	}
	if re, ok := formats[format]; ok && !re.MatchString(s) {
		return fieldErr(name, "must match format '"+format+"'.")
	}
	return nil
}
