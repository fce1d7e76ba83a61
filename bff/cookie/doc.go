// Package cookie seals values into browser cookies with AES-256-GCM and splits large sealed
// values across several cookies.
//
// A Codec holds a ring of keys, each with a short id. The first key seals; every key opens,
// so keys rotate without signing everyone out: add the new key first, keep the old one until
// the longest session has ended, then drop it. The cookie name is bound into the associated
// data, so a value sealed for one cookie never opens as another.
//
// A Jar writes one sealed value as a numbered run of cookies (name, name-1, name-2, …), reads
// the run back exactly, and clears chunks a shorter value left behind.
package cookie
