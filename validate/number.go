package validate

import (
	"encoding/json"
	"math"
	"strconv"
)

// number accepts a JSON number (never a string such as "5") and returns it
// as the Node.js driver stores numbers: int32 for integers in its range,
// float64 otherwise. NaN and infinities are refused.
func number(v any) (any, bool) {
	switch x := v.(type) {
	case float64:
		return fromFloat(x)
	case float32:
		return fromFloat(float64(x))
	case int:
		return fromInt(int64(x)), true
	case int8:
		return int32(x), true
	case int16:
		return int32(x), true
	case int32:
		return x, true
	case int64:
		return fromInt(x), true
	case uint8:
		return int32(x), true
	case uint16:
		return int32(x), true
	case uint32:
		return fromInt(int64(x)), true
	case uint:
		return fromFloat(float64(x))
	case uint64:
		return fromFloat(float64(x))
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return fromInt(i), true
		}
		f, err := x.Float64()
		if err != nil {
			return nil, false
		}
		return fromFloat(f)
	}
	return nil, false
}

func fromInt(i int64) any {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		return int32(i)
	}
	return float64(i)
}

func fromFloat(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return int32(f), true
	}
	return f, true
}
