package view

import (
	"reflect"
	"testing"
)

// Every word a chart draws is given in Russian: an empty one falls back to
// English in the middle of a Russian chart ("present", "you").
func TestRussianChartLabels(t *testing.T) {
	v := reflect.ValueOf(RU.Labels())
	for i := range v.NumField() {
		if v.Field(i).String() == "" {
			t.Errorf("RU.Labels().%s is empty", v.Type().Field(i).Name)
		}
	}
}
