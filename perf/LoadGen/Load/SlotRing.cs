using System.Numerics;

namespace HighPerfInference.LoadGen.Load;

/// <summary>
/// The free request slots of one connection: a single-producer (receive loop), single-consumer
/// (send loop) ring of slot numbers, lock-free. Slots come back in completion order, so for an
/// in-order protocol the n-th request sent always holds slot n mod capacity.
/// </summary>
public sealed class SlotRing
{
    private readonly int[] _slots;
    private readonly int _mask;
    private long _head;   // next to take; written by the consumer only
    private long _tail;   // next to fill; written by the producer only

    public SlotRing(int slotCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotCount);
        _slots = new int[(int)BitOperations.RoundUpToPowerOf2((uint)slotCount)];
        _mask = _slots.Length - 1;
        for (var i = 0; i < slotCount; i++)
            _slots[i] = i;
        _tail = slotCount;
    }

    public int FreeCount => (int)(Volatile.Read(ref _tail) - Volatile.Read(ref _head));

    /// <summary>Consumer side.</summary>
    public bool TryTake(out int slot)
    {
        var head = _head;
        if (head == Volatile.Read(ref _tail))
        {
            slot = -1;
            return false;
        }
        slot = _slots[(int)(head & _mask)];
        Volatile.Write(ref _head, head + 1);
        return true;
    }

    /// <summary>Producer side: gives a slot back. Never more slots than the ring was made with.</summary>
    public void Return(int slot)
    {
        var tail = _tail;
        _slots[(int)(tail & _mask)] = slot;
        Volatile.Write(ref _tail, tail + 1);
    }
}
