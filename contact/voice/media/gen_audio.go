//go:build ignore

// gen_audio writes the embedded clips: go run gen_audio.go
package main

import (
	"math"
	"os"

	"github.com/contacthub/contacthub/contact/voice/media"
)

func tone(freqs []float64, sec float64, amp float64) []int16 {
	n := int(sec * 8000)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 8000
		env := math.Min(1, math.Min(t/0.03, (sec-t)/0.08)) // soft attack and release
		v := 0.0
		for k, f := range freqs {
			v += math.Sin(2*math.Pi*f*t) / float64(k+1)
		}
		out[i] = int16(amp * env * v / float64(len(freqs)) * 32767)
	}
	return out
}

func main() {
	// A slow arpeggio in C major / A minor / F / G, two notes a chord.
	chords := [][]float64{{261.63, 329.63, 392.0}, {220.0, 261.63, 329.63}, {174.61, 220.0, 261.63}, {196.0, 246.94, 293.66}}
	var lin []int16
	for _, c := range chords {
		for _, f := range c {
			lin = append(lin, tone([]float64{f, 2 * f}, 0.5, 0.35)...)
		}
		lin = append(lin, tone([]float64{c[0] / 2, c[1] / 2}, 0.5, 0.25)...)
	}
	w, _ := os.Create("hold.wav")
	if err := media.WriteWAV(w, lin, 7); err != nil {
		panic(err)
	}
	w.Close()
	b, _ := os.Create("beep.wav")
	beep := append(tone([]float64{880}, 0.25, 0.5), make([]int16, 800)...)
	beep = append(beep, tone([]float64{660}, 0.25, 0.5)...)
	if err := media.WriteWAV(b, beep, 7); err != nil {
		panic(err)
	}
	b.Close()
}
