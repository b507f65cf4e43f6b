package server

import "sync"

// answerBuffers holds the buffers answers are assembled in between
// requests: an answer written with JSONBlob is copied out before JSONBlob
// returns, so its buffer can serve the next request instead of becoming
// garbage.
var answerBuffers sync.Pool

// maxPooledAnswer keeps an unusually large answer's buffer out of the pool.
const maxPooledAnswer = 1 << 20

// AnswerBuffer returns an empty buffer with room for at least size bytes,
// to assemble an answer in; give it back with ReleaseAnswerBuffer once
// the answer is written.
func AnswerBuffer(size int) *[]byte {
	buf, _ := answerBuffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	if cap(*buf) < size {
		*buf = make([]byte, 0, size)
	}
	*buf = (*buf)[:0]
	return buf
}

// ReleaseAnswerBuffer gives buf back for another answer. The caller must
// not use it afterwards.
func ReleaseAnswerBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledAnswer {
		*buf = (*buf)[:0]
		answerBuffers.Put(buf)
	}
}
