//! Where events go: MongoDB and the capture file, through a bounded backlog ([`sink`]).

pub mod sink;
