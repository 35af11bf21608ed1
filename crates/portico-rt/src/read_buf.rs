//! [`ReadBuf`]: a read target that may start uninitialised, so that a read does not have to
//! zero memory it is about to overwrite.

use std::fmt;
use std::mem::MaybeUninit;

/// A buffer being filled by reads: `filled` bytes at the front, then `initialized - filled`
/// bytes that hold data but no meaning, then memory that may be uninitialised.
///
/// HTTP servers read into fresh, uninitialised buffer space on every read; going through
/// futures-io's `&mut [u8]` would mean zeroing it first, every time. Adapters that can read
/// into uninitialised memory (tokio's `ReadBuf`, a raw `read(2)`) override
/// [`RawStream::poll_read_buf`](crate::adapter::RawStream::poll_read_buf) to skip that.
///
/// # Examples
///
/// ```
/// use std::mem::MaybeUninit;
/// use portico_rt::ReadBuf;
///
/// let mut storage = [MaybeUninit::<u8>::uninit(); 8];
/// let mut buf = ReadBuf::uninit(&mut storage);
/// buf.initialize_unfilled()[..3].copy_from_slice(b"abc");
/// buf.advance(3);
/// assert_eq!(buf.filled(), b"abc");
/// assert_eq!(buf.remaining(), 5);
/// ```
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.buf.len())
            .finish()
    }
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialised memory.
    pub fn new(buf: &'a mut [u8]) -> Self {
        let initialized = buf.len();
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and every byte is
        // initialised (the `initialized` count says so, so nothing will de-initialise it).
        let buf = unsafe { &mut *(std::ptr::from_mut::<[u8]>(buf) as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over memory that may be uninitialised.
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> Self {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// The capacity.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The bytes read so far.
    pub fn filled(&self) -> &[u8] {
        // SAFETY: the first `filled` bytes are initialised (`filled <= initialized`).
        unsafe {
            &*(std::ptr::from_ref::<[MaybeUninit<u8>]>(&self.buf[..self.filled]) as *const [u8])
        }
    }

    /// How many more bytes fit.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// The unfilled part, zeroed where it was not initialised yet, for readers that need
    /// `&mut [u8]`. Call [`advance`](Self::advance) with what was written.
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        for byte in &mut self.buf[self.initialized..] {
            byte.write(0);
        }
        self.initialized = self.buf.len();
        let unfilled = &mut self.buf[self.filled..];
        // SAFETY: every byte from `filled` to the end was initialised just above or before.
        unsafe { &mut *(std::ptr::from_mut::<[MaybeUninit<u8>]>(unfilled) as *mut [u8]) }
    }

    /// Marks `n` more bytes as filled, after writing them through
    /// [`initialize_unfilled`](Self::initialize_unfilled).
    ///
    /// # Panics
    ///
    /// If that would pass the initialised part.
    pub fn advance(&mut self, n: usize) {
        let filled = self
            .filled
            .checked_add(n)
            .expect("ReadBuf::advance overflowed");
        assert!(
            filled <= self.initialized,
            "ReadBuf::advance past the initialised bytes"
        );
        self.filled = filled;
    }

    /// Appends `data` to the filled part, leaving the memory after it as it was (nothing is
    /// zeroed): for readers that hand out bytes they already hold.
    ///
    /// # Panics
    ///
    /// If `data` is longer than [`remaining`](Self::remaining).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// use portico_rt::ReadBuf;
    ///
    /// let mut storage = [MaybeUninit::<u8>::uninit(); 8];
    /// let mut buf = ReadBuf::uninit(&mut storage);
    /// buf.put_slice(b"abc");
    /// assert_eq!(buf.filled(), b"abc");
    /// assert_eq!(buf.remaining(), 5);
    /// ```
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            data.len() <= self.remaining(),
            "ReadBuf::put_slice past the end"
        );
        let end = self.filled + data.len();
        for (slot, byte) in self.buf[self.filled..end].iter_mut().zip(data) {
            slot.write(*byte);
        }
        self.filled = end;
        self.initialized = self.initialized.max(end);
    }

    /// The unfilled part, possibly uninitialised, for readers that write into raw memory.
    ///
    /// # Safety
    ///
    /// The caller must not write uninitialised values into it: the part that was initialised
    /// must stay so.
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// Marks `n` more bytes as filled (and so initialised), after writing them through
    /// [`unfilled_mut`](Self::unfilled_mut).
    ///
    /// # Safety
    ///
    /// The `n` bytes after the filled part must have been initialised.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`remaining`](Self::remaining).
    pub unsafe fn assume_filled(&mut self, n: usize) {
        assert!(n <= self.remaining(), "ReadBuf::assume_filled past the end");
        self.filled += n;
        self.initialized = self.initialized.max(self.filled);
    }
}
