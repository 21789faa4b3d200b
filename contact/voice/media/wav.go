package media

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Payload types of the codecs ContactHub speaks (RFC 3551 static types).
const (
	PCMU uint8 = 0
	PCMA uint8 = 8
)

// ErrWAV means a WAV file cannot be played as telephone audio.
var ErrWAV = errors.New("media: unsupported wav")

// Audio is a clip ready to send in either G.711 law, 8 kHz mono.
type Audio struct {
	ulaw, alaw []byte
}

// Samples is the clip's length in samples (8 kHz).
func (a *Audio) Samples() int { return len(a.ulaw) }

// Encoded returns the clip companded for payload type pt (PCMU or PCMA).
func (a *Audio) Encoded(pt uint8) []byte {
	if pt == PCMA {
		return a.alaw
	}
	return a.ulaw
}

//go:embed hold.wav
var holdWAV []byte

//go:embed beep.wav
var beepWAV []byte

// DefaultHold is the embedded hold music: a soft 8 kHz µ-law loop.
func DefaultHold() *Audio { return mustWAV(holdWAV) }

// DefaultBeep is the embedded short prompt tone (survey prompt).
func DefaultBeep() *Audio { return mustWAV(beepWAV) }

func mustWAV(b []byte) *Audio {
	a, err := ParseWAV(b)
	if err != nil {
		panic(err)
	}
	return a
}

// LoadWAV reads an 8 kHz mono WAV file (16-bit PCM, µ-law or A-law).
func LoadWAV(path string) (*Audio, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("media: load %s: %w", path, err)
	}
	a, err := ParseWAV(b)
	if err != nil {
		return nil, fmt.Errorf("media: load %s: %w", path, err)
	}
	return a, nil
}

// ParseWAV decodes a RIFF/WAVE file: 8 kHz, mono, format PCM 16-bit (1),
// A-law (6) or µ-law (7).
func ParseWAV(b []byte) (*Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not RIFF/WAVE", ErrWAV)
	}
	var format, channels, bits uint16
	var rate uint32
	var data []byte
	haveFmt := false
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		p += 8
		if size < 0 || size > len(b)-p {
			size = len(b) - p // tolerate a truncated last chunk
		}
		chunk := b[p : p+size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("%w: short fmt chunk", ErrWAV)
			}
			format = binary.LittleEndian.Uint16(chunk[0:2])
			channels = binary.LittleEndian.Uint16(chunk[2:4])
			rate = binary.LittleEndian.Uint32(chunk[4:8])
			bits = binary.LittleEndian.Uint16(chunk[14:16])
			haveFmt = true
		case "data":
			data = chunk
		}
		p += size + size&1
	}
	if !haveFmt || data == nil {
		return nil, fmt.Errorf("%w: missing fmt or data chunk", ErrWAV)
	}
	if channels != 1 || rate != 8000 {
		return nil, fmt.Errorf("%w: %d channels at %d Hz, want mono 8000 Hz", ErrWAV, channels, rate)
	}
	var lin []int16
	switch {
	case format == 1 && bits == 16:
		lin = make([]int16, len(data)/2)
		for i := range lin {
			lin[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case format == 6 && bits == 8:
		lin = make([]int16, len(data))
		for i, x := range data {
			lin[i] = DecodeALaw(x)
		}
	case format == 7 && bits == 8:
		lin = make([]int16, len(data))
		for i, x := range data {
			lin[i] = DecodeULaw(x)
		}
	default:
		return nil, fmt.Errorf("%w: format %d with %d bits", ErrWAV, format, bits)
	}
	if len(lin) < SamplesPerPacket {
		return nil, fmt.Errorf("%w: shorter than one packet", ErrWAV)
	}
	lin = lin[:len(lin)-len(lin)%SamplesPerPacket] // whole packets, so the loop is seamless
	return FromLinear(lin), nil
}

// FromLinear builds a clip from 8 kHz 16-bit samples.
func FromLinear(lin []int16) *Audio {
	a := &Audio{ulaw: make([]byte, len(lin)), alaw: make([]byte, len(lin))}
	for i, s := range lin {
		a.ulaw[i], a.alaw[i] = EncodeULaw(s), EncodeALaw(s)
	}
	return a
}

// WriteWAV writes 8 kHz 16-bit samples as a µ-law (law 7) or A-law (6) WAV.
func WriteWAV(w io.Writer, lin []int16, law uint16) error {
	data := make([]byte, len(lin))
	for i, s := range lin {
		if law == 6 {
			data[i] = EncodeALaw(s)
		} else {
			data[i] = EncodeULaw(s)
		}
	}
	h := make([]byte, 0, 58)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(4+26+8+8+len(data)))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 18)
	h = binary.LittleEndian.AppendUint16(h, law)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint32(h, 8000)
	h = binary.LittleEndian.AppendUint32(h, 8000)
	h = binary.LittleEndian.AppendUint16(h, 1)
	h = binary.LittleEndian.AppendUint16(h, 8)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
