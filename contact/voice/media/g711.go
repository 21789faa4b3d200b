package media

// G.711 µ-law (PCMU) and A-law (PCMA) companding, ITU-T G.711.

// EncodeULaw compands a 16-bit linear sample to µ-law.
func EncodeULaw(s int16) byte {
	const bias, clip = 0x84, 32635
	x := int(s)
	sign := 0
	if x < 0 {
		x, sign = -x, 0x80
	}
	if x > clip {
		x = clip
	}
	x += bias
	exp := 7
	for mask := 0x4000; x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (x >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// DecodeULaw expands a µ-law byte to a 16-bit linear sample.
func DecodeULaw(u byte) int16 {
	u = ^u
	sign := u & 0x80
	exp := int(u>>4) & 0x07
	mant := int(u & 0x0f)
	x := ((mant << 3) + 0x84) << exp
	x -= 0x84
	if sign != 0 {
		return int16(-x)
	}
	return int16(x)
}

// EncodeALaw compands a 16-bit linear sample to A-law.
func EncodeALaw(s int16) byte {
	x := int(s)
	sign := 0x80
	if x < 0 {
		x, sign = -x-1, 0
	}
	if x > 32767 {
		x = 32767
	}
	var b int
	if x < 256 {
		b = x >> 4
	} else {
		exp := 1
		for v := x >> 8; v > 1; v >>= 1 {
			exp++
		}
		b = exp<<4 | (x>>(exp+3))&0x0f
	}
	return byte(b|sign) ^ 0x55
}

// DecodeALaw expands an A-law byte to a 16-bit linear sample.
func DecodeALaw(a byte) int16 {
	a ^= 0x55
	sign := a & 0x80
	exp := int(a>>4) & 0x07
	mant := int(a & 0x0f)
	var x int
	if exp == 0 {
		x = mant<<4 + 8
	} else {
		x = (mant<<4 + 0x108) << (exp - 1)
	}
	if sign == 0 {
		return int16(-x)
	}
	return int16(x)
}
